import type { Placement } from './placement.js';
import { endedCommand } from './ended-games.js';
import type { HandedRoom } from './handoff.js';
import type { BusMessage, RemoteReply, RemoteRooms, SeatStatus } from './remote.js';
import type { RoomListener } from './room-actor.js';
import { fail, type RuntimeDeps } from './types.js';

/** A watcher on another node of a seat of a room hosted here (one per room, seat and node). */
interface RemoteWatcher {
  room: string;
  node: string;
  /** The attachment it serves now (the watching node attaches anew under a new id). */
  watch: string;
  /** Frames sent to this attachment so far: the last one's number. */
  n: number;
  /** Consecutive checks from its node that did not list it (see `check`). */
  unlisted: number;
  /** For the spectators' seat (player null): how many spectators its node last said it has. */
  spectators: number;
  listener: RoomListener;
}

/** After this many checks in a row from its node without it, a watcher is dropped. */
const UNLISTED_LIMIT = 2;

/**
 * The node among its peers: serves their requests for the rooms hosted here (commands, resumes,
 * watchers on their nodes), hears their arrivals and departures, and sends the watchers here
 * after rooms that moved. (The asking side is remote.ts.)
 *
 * A watcher held here for another node stands for a player connected there: while it exists,
 * the player counts as connected and nobody plays their turn. So the watchers of a node that is
 * gone (it said so, its heartbeat lapsed, it started a new life) are dropped, which disconnects
 * those players in their rooms and lets the disconnect grace run; and a node that still
 * believes it is attached finds out at its next check and attaches again.
 */
export class Peers {
  /** Watchers on other nodes of rooms hosted here, by room|player|node. */
  private readonly remoteListeners = new Map<string, RemoteWatcher>();

  constructor(
    private readonly placement: Placement,
    private readonly remote: RemoteRooms,
    private readonly deps: RuntimeDeps,
    /**
     * A peer left (it said so, or Redis saw its heartbeat expire): look for its rooms now.
     * `named`: the rooms it named this node to adopt, when it drained (may be empty).
     */
    private readonly onNodeGone: (node: string, named?: string[]) => void,
    /** Redis is back after a break: rooms stopped meanwhile are taken back at once. */
    onRedisBack: () => void = () => {},
    /** A draining peer hands this node rooms, with their snapshots (see handoff.ts). */
    private readonly onHandoff: (node: string, rooms: HandedRoom[]) => void = () => {},
  ) {
    deps.backends.bus.onMessage((message) => this.onBus(message as BusMessage));
    // What was sent here while the subscription was down is lost: ask every owner at once.
    deps.backends.bus.onResubscribed(() => {
      deps.log.info('bus subscription restored; checking every watched view with its owner');
      void this.remote.resync();
      onRedisBack();
    });
  }

  /**
   * Tells peers this node (re)started: a node restarted under the same NODE_ID has none of the
   * watchers its previous life had, so peers watching its rooms attach again.
   */
  async announceStart(): Promise<void> {
    await this.deps.backends.bus.broadcast({ kind: 'node_started', node: this.deps.options.nodeId } satisfies BusMessage);
  }

  /**
   * Tells peers this node is gone (drained), so they adopt its rooms at once, naming who takes
   * each (see `adopters`).
   */
  async announceGone(adopters?: Record<string, string>): Promise<void> {
    await this.deps.backends.bus.broadcast({ kind: 'node_gone', node: this.deps.options.nodeId, ...(adopters ? { adopters } : {}) } satisfies BusMessage);
  }

  /**
   * Who adopts each of these rooms: spread evenly, in turn, over the peers that listen on the
   * bus and whose heartbeat lives (null when there is none, or they cannot be read: the peers
   * then share the rooms out by themselves).
   */
  async adopters(rooms: readonly string[]): Promise<Record<string, string> | null> {
    const { backends, options } = this.deps;
    const listening = await backends.bus.listening().catch(() => null);
    if (!listening) return null;
    const candidates = [...listening].filter((id) => id !== options.nodeId);
    const live = await backends.cache.liveNodes(candidates).catch(() => null);
    const peers = candidates.filter((id) => live?.has(id)).sort();
    if (peers.length === 0) return null;
    const named: Record<string, string> = {};
    [...rooms].sort().forEach((room, i) => (named[room] = peers[i % peers.length]!));
    return named;
  }

  /**
   * The periodic look at the peers, by their heartbeats: watched rooms whose owner died or
   * changed have their watchers here find them again; watchers held here for nodes that are
   * gone are dropped (their players are disconnected).
   */
  async checkPeers(): Promise<void> {
    // Requests sent to a peer while it was presumed alive (its heartbeat lost a moment ago)
    // that it will never answer: no crash sign is seen across a Redis restart, so the failure
    // detector may never name it, and they would wait out their timeout (seconds).
    for (const owner of this.remote.waitingOn()) {
      if (!(await this.placement.liveness.presumedAlive(owner))) this.remote.ownerGone(owner);
    }
    for (const { room, owner } of this.remote.rooms()) {
      const current = await this.placement.liveOwner(room);
      if (current !== owner) this.remote.evictRoom(room, 'the room’s server is gone');
    }
    const nodes = new Set([...this.remoteListeners.values()].map((w) => w.node));
    if (nodes.size === 0) return;
    const live = await this.deps.backends.cache.liveNodes([...nodes]);
    for (const node of nodes) if (!live.has(node)) this.dropWatchersOf(node, 'its heartbeat lapsed');
  }

  /** Checks every view watched here with its room's owner (see RemoteRooms.verify). */
  verifyViews(): Promise<void> {
    return this.remote.verify();
  }

  private onBus(message: BusMessage): void {
    const { log, options } = this.deps;
    switch (message.kind) {
      case 'request':
        void this.serve(message).catch((error) => log.warn({ err: (error as Error).message }, 'serving a peer failed'));
        return;
      case 'check':
        return this.check(message);
      case 'resend':
        return this.resend(message);
      case 'spectators': {
        const watcher = this.remoteListeners.get(keyOf(message.room, null, message.from));
        if (watcher && watcher.watch === message.watch) this.setSpectators(watcher, message.count);
        return;
      }
      case 'node_started':
        if (message.node === options.nodeId) return;
        this.remote.evictOwner(message.node, 'its server restarted');
        this.dropWatchersOf(message.node, 'it restarted');
        return;
      case 'drain':
        if (message.node === options.nodeId) options.onDrainRequest?.(message.from);
        return;
      case 'node_gone': {
        const named = message.adopters ? Object.keys(message.adopters).filter((room) => message.adopters![room] === options.nodeId) : undefined;
        return this.nodeGone(message.node, named);
      }
      case 'handoff':
        if (message.from !== options.nodeId && Array.isArray(message.rooms)) this.onHandoff(message.from, message.rooms);
        return;
      case 'hosted':
        if (message.node !== options.nodeId && Array.isArray(message.rooms)) {
          this.placement.handovers.hostedNews(message.rooms);
          this.placement.wake(message.rooms);
        }
        return;
      default:
        this.remote.deliver(message);
    }
  }

  /**
   * A peer is gone (it said so, Redis saw its heartbeat expire, or the failure detector took it
   * for dead): nothing more is asked of it or waited from it, its watchers here are dropped,
   * and its rooms are looked for at once.
   */
  nodeGone(node: string, named?: string[]): void {
    if (node === this.deps.options.nodeId) return;
    this.remote.ownerGone(node);
    this.remote.evictOwner(node, 'its server is gone');
    this.dropWatchersOf(node, 'it is gone');
    this.onNodeGone(node, named);
  }

  /**
   * Drops the watchers held here for `node`: the players it served are no longer connected
   * through it (their rooms mark them disconnected, and the grace period runs).
   */
  private dropWatchersOf(node: string, why: string): void {
    let dropped = 0;
    for (const [key, watcher] of this.remoteListeners) {
      if (watcher.node !== node) continue;
      this.drop(key, watcher);
      dropped++;
    }
    if (dropped > 0) this.deps.log.info({ node, dropped, why }, 'dropped the watchers of a node');
  }

  private drop(key: string, watcher: RemoteWatcher): void {
    if (this.remoteListeners.get(key) !== watcher) return;
    this.remoteListeners.delete(key);
    this.placement.local(watcher.room)?.detach(watcher.listener);
  }

  /**
   * A watching node asks about the seats it watches here: for each, whether this node hosts the
   * room and holds that attachment, and the number of the last frame sent to it. Watchers held
   * here for that node that it no longer lists (it stopped watching, and the detach was lost)
   * are dropped after a few checks (not at once: a check may overtake an attach).
   */
  private check(message: Extract<BusMessage, { kind: 'check' }>): void {
    const listed = new Set<string>();
    const seats: SeatStatus[] = message.seats.map((seat) => {
      const ids = { room: seat.room, player_id: seat.player_id, watch: seat.watch };
      const key = keyOf(seat.room, seat.player_id, message.from);
      listed.add(key);
      if (!this.placement.local(seat.room)) return { ...ids, status: 'moved' };
      const watcher = this.remoteListeners.get(key);
      if (!watcher || watcher.watch !== seat.watch) return { ...ids, status: 'missing' };
      watcher.unlisted = 0;
      if (seat.player_id === null && seat.spectators !== undefined) this.setSpectators(watcher, seat.spectators);
      return { ...ids, status: 'ok', n: watcher.n };
    });
    for (const [key, watcher] of this.remoteListeners) {
      if (watcher.node === message.from && !listed.has(key) && ++watcher.unlisted >= UNLISTED_LIMIT) this.drop(key, watcher);
    }
    void this.deps.backends.bus.send(message.from, { kind: 'checked', id: message.id, seats } satisfies BusMessage).catch(() => undefined);
  }

  /** A peer node's count of its spectators of a room, as it says now. */
  private setSpectators(watcher: RemoteWatcher, count: number): void {
    if (!Number.isInteger(count) || count < 0 || watcher.spectators === count) return;
    const actor = this.placement.local(watcher.room);
    // More watching there: the places held for them since their `spectate` are taken.
    if (count > watcher.spectators) actor?.spectatorsArrived(count - watcher.spectators);
    watcher.spectators = count;
    actor?.spectatorsChanged();
  }

  /** A watching node lost frames: each seat named gets its current view again. */
  private resend(message: Extract<BusMessage, { kind: 'resend' }>): void {
    for (const seat of message.seats) {
      const watcher = this.remoteListeners.get(keyOf(seat.room, seat.player_id, message.from));
      if (watcher && watcher.watch === seat.watch) this.placement.local(seat.room)?.resend(watcher.listener);
    }
  }

  /** A peer's request for a room this node hosts (or should: its cache entry names this node). */
  private async serve(message: Extract<BusMessage, { kind: 'request' }>): Promise<void> {
    const { bus } = this.deps.backends;
    const answer = (reply: RemoteReply) => {
      const out: BusMessage = { kind: 'reply', id: message.id, reply };
      void bus.send(message.from, out).catch(() => undefined);
    };
    const found = await this.placement.resolve(message.room);
    if ('ok' in found) return answer(found);
    const request = message.request;
    if ('ended' in found) {
      // Over, and no longer hosted here: only its standings can still be asked for.
      if (request.type === 'resume') return answer(await this.placement.ended.resume(found.ended, request));
      if (request.type === 'spectate') return answer(fail('unknown_room', 'the game is over'));
      return answer(request.type === 'command' ? endedCommand(found.ended, request.command) : fail('unknown_room', 'the game is over'));
    }
    const actor = found.local;
    switch (request.type) {
      case 'command':
        return void this.placement.localCommand(actor, request.player_id, request.command_id, request.command, request.want_view).then(answer);
      case 'resume':
        return answer(this.placement.localResume(actor, request));
      case 'spectate':
        return answer(this.placement.localSpectate(actor));
      case 'attach':
        this.attach(message.from, message.room, request.player_id, request.watch, actor, request.spectators);
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      case 'detach': {
        const key = keyOf(message.room, request.player_id, message.from);
        const watcher = this.remoteListeners.get(key);
        // A detach of an earlier attachment (overtaken by a newer one) leaves the newer be.
        if (watcher && watcher.watch === request.watch) this.drop(key, watcher);
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      }
    }
  }

  /**
   * Attaches a seat for a watching node. The node attaches a seat it already has here under a
   * new watch id when it lost track (its check found frames lost or the seat missing): the
   * watcher stays, now serving that attachment from its first frame, which is sent at once.
   */
  private attach(from: string, room: string, playerId: string | null, watch: string, actor: NonNullable<ReturnType<Placement['local']>>, spectators = 1): void {
    const { bus } = this.deps.backends;
    const key = keyOf(room, playerId, from);
    const existing = this.remoteListeners.get(key);
    if (existing) {
      if (existing.watch === watch) return;
      existing.watch = watch;
      existing.n = 0;
      existing.unlisted = 0;
      if (playerId === null) this.setSpectators(existing, spectators);
      actor.resend(existing.listener);
      return;
    }
    const nodeId = this.deps.options.nodeId;
    const epoch = actor.epoch;
    const watcher: RemoteWatcher = {
      room,
      node: from,
      watch,
      n: 0,
      unlisted: 0,
      spectators,
      listener: {
        playerId,
        // The spectators' seat stands for every spectator of the room on that node (read live).
        get spectators() {
          return playerId === null ? watcher.spectators : undefined;
        },
        state: (seq, frame) => {
          watcher.n++;
          void bus.send(from, { kind: 'state', room, player_id: playerId, seq, frame, epoch, watch: watcher.watch, n: watcher.n } satisfies BusMessage).catch(() => undefined);
        },
        evicted: (reason) => {
          if (this.remoteListeners.get(key) === watcher) this.remoteListeners.delete(key);
          void bus.send(from, { kind: 'moved', room, reason, from: nodeId } satisfies BusMessage).catch(() => undefined);
        },
        unseated: (reason) => {
          if (this.remoteListeners.get(key) === watcher) this.remoteListeners.delete(key);
          void bus.send(from, { kind: 'unseated', room, player_id: playerId, reason, watch: watcher.watch } satisfies BusMessage).catch(() => undefined);
        },
      },
    };
    this.remoteListeners.set(key, watcher);
    actor.attach(watcher.listener);
  }
}

/** Player ids are ASCII without `*`: the spectators' seat is `*`. */
const keyOf = (room: string, playerId: string | null, node: string) => `${room}|${playerId ?? '*'}|${node}`;
