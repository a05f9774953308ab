import { randomInt, randomUUID } from 'node:crypto';
import { newRoomSnapshot, restoreRoomSnapshot, type RoomCommand, type RoomContext, type Timing } from '../../actors/room-machine.js';
import { findPlayer, type PartialOptions } from '../game/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ActiveGame, EventRecord, PgEventStore } from '../stores/event-store.js';
import type { Lease, Leases } from '../stores/leases.js';
import type { RoomMeta, SnapshotRecord, StateCache } from '../stores/state-cache.js';
import type { Bus } from '../stores/bus.js';
import type { GameView } from '../game/view.js';
import { AppendBatcher } from './append-batcher.js';
import { EndedGames, endedCommand, type SeatClaim } from './ended-games.js';
import { rebuildContext, type RestoreSource } from './restore.js';
import { RemoteRooms, type BusMessage, type RemoteReply } from './remote.js';
import { RoomActor, type ErrorCode, type Outcome, type RoomListener } from './room-actor.js';
import { RoomIndex } from './room-index.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { hashMatches, hashToken, newPlayerId, newToken, parseToken } from './tokens.js';

export interface RuntimeOptions {
  nodeId: string;
  timing: Timing;
  roomTtlSeconds: number;
  passivateAfterMs: number;
  leaseTtlMs: number;
  /** Snapshot writes to the cache are batched over this window (0: every event-loop turn). */
  snapshotFlushMs?: number;
}

export interface Backends {
  events: PgEventStore;
  cache: StateCache;
  leases: Leases;
  bus: Bus;
}

/**
 * A seat taken or resumed. `ended`: the game is over and hosted nowhere; the view is its final
 * standings, read-only (nothing more will change, so there is nothing to watch).
 */
export type Seat = { ok: true; room: string; player_id: string; token: string; seq: number; view: GameView; ended?: boolean };
export type Failure = { ok: false; code: ErrorCode; message: string };

export interface RecoverySummary {
  recovered: number;
  from: Record<RestoreSource, number>;
  skipped: number;
  failed: Array<{ game_id: string; room: string; reason: string }>;
  ms: number;
}

const CODE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I or O: codes are read aloud and typed

export function randomRoomCode(): string {
  let code = '';
  for (let i = 0; i < 4; i++) code += CODE_LETTERS[randomInt(CODE_LETTERS.length)];
  return code;
}

const fail = (code: ErrorCode, message: string): Failure => ({ ok: false, code, message });

/** How often a command follows a room that is moving before the player is told to retry. */
const COMMAND_ATTEMPTS = 4;

/** Where a room is: hosted here, on a live peer, or over and hosted nowhere (its game's row). */
type Where = { local: RoomActor } | { remote: string } | { ended: ActiveGame } | Failure;

/** What watching a room came to: watched, a game that is over (nothing to watch), or not reachable now. */
export type WatchOutcome = 'watching' | 'ended' | 'unreachable';

const emptySummary = (): RecoverySummary => ({ recovered: 0, from: { snapshot: 0, 'snapshot+events': 0, events: 0 }, skipped: 0, failed: [], ms: 0 });

/**
 * The rooms hosted by this node: creating, activating (lease, epoch, restore), recovering at
 * start, passivating idle rooms, and draining on shutdown.
 */
export class RoomRuntime {
  private readonly rooms = new Map<string, RoomActor>();
  private readonly activating = new Map<string, Promise<RoomActor | { ended: ActiveGame } | null>>();
  private readonly batcher: AppendBatcher;
  readonly snapshots: SnapshotWriter;
  private accepting = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private adopting = false;
  private readonly startedAt: number;
  private readonly remote: RemoteRooms;
  private readonly index: RoomIndex;
  private readonly ended: EndedGames;
  /** Watchers on other nodes of rooms hosted here, by room|player|node. */
  private readonly remoteListeners = new Map<string, RoomListener>();

  constructor(
    private readonly backends: Backends,
    private readonly options: RuntimeOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.batcher = new AppendBatcher(backends.events, metrics);
    this.snapshots = new SnapshotWriter(backends.cache, log, metrics, options.snapshotFlushMs ?? 0);
    this.remote = new RemoteRooms(backends.bus, options.nodeId, log);
    this.index = new RoomIndex(backends.cache, backends.events, { nodeId: options.nodeId, ttlSeconds: options.roomTtlSeconds }, log, now);
    this.ended = new EndedGames(backends.cache, backends.events, options.timing, log);
    this.startedAt = now();
    backends.bus.onMessage((message) => this.onBus(message as BusMessage));
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /** Rooms currently hosted here (for tests and inspection). */
  hosted(): RoomActor[] {
    return [...this.rooms.values()];
  }

  /** Announces this node as alive (before recovery, so that peers leave its rooms alone). */
  async heartbeat(): Promise<void> {
    await this.backends.cache.heartbeat(this.options.nodeId, this.options.leaseTtlMs);
  }

  /**
   * Rebuilds the Redis room index from PostgreSQL (at start, after migrations, before
   * recovery), having first abandoned the games idle past the room TTL.
   */
  async rebuildIndex(): Promise<void> {
    await this.index.prepare();
  }

  /**
   * Tells peers this node (re)started: a node restarted under the same NODE_ID has none of the
   * watchers its previous life had, so peers watching its rooms attach again.
   */
  async announceStart(): Promise<void> {
    await this.backends.bus.broadcast({ kind: 'node_started', node: this.options.nodeId } satisfies BusMessage);
  }

  /**
   * The background work of a node: its heartbeat (every third of the lease TTL), adoption of
   * rooms whose node died or drained (every half TTL), and passivation of idle rooms.
   */
  startBackground(): void {
    const every = (ms: number, work: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        work().catch((error) => this.log.warn({ err: (error as Error).message }, `${what} failed`));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    const ttl = this.options.leaseTtlMs;
    every(Math.max(50, Math.floor(ttl / 3)), () => this.heartbeat(), 'heartbeat');
    every(Math.max(100, Math.floor(ttl / 2)), () => this.adoptOrphans(), 'adoption');
    every(Math.max(100, Math.floor(ttl / 2)), () => this.checkRemoteOwners(), 'owner check');
    every(Math.min(60_000, Math.max(1000, Math.floor(this.options.passivateAfterMs / 4))), () => this.passivateIdle(), 'passivation');
    every(10 * 60_000, () => this.backends.cache.pruneActive(), 'active-set pruning');
    // A Redis that lost its data (flushed, restarted empty) gets its room index back.
    every(Math.max(500, ttl), () => this.index.check(), 'room index check');
    every(10 * 60_000, () => this.index.abandonIdle(), 'abandoning idle games');
  }

  /**
   * Adopts the unfinished games recorded on nodes whose heartbeat is gone (crashed, or
   * drained), and, shortly after start, this node's own games it does not host yet (a previous
   * life with the same NODE_ID, whose leases had not lapsed at recovery). The lease decides
   * between racing survivors; the epoch fences the loser.
   */
  async adoptOrphans(): Promise<number> {
    if (!this.accepting || this.adopting) return 0;
    this.adopting = true;
    try {
      const { events, cache } = this.backends;
      const ttl = this.options.roomTtlSeconds;
      const hosts = await events.hostingNodes(ttl);
      const live = await cache.liveNodes(hosts.filter((id) => id !== this.options.nodeId));
      const justStarted = this.now() - this.startedAt < 3 * this.options.leaseTtlMs;
      const gone = hosts.filter((id) => (id === this.options.nodeId ? justStarted : !live.has(id)));
      if (gone.length === 0) return 0;
      const games = this.unhosted(await events.gamesHostedBy(gone, ttl));
      if (games.length === 0) return 0;
      const summary = emptySummary();
      for (let i = 0; i < games.length; i += 500) await this.recoverBatch(games.slice(i, i + 500), summary);
      if (summary.recovered > 0 || summary.failed.length > 0) {
        this.log.info({ adopted: summary.recovered, from: summary.from, failed: summary.failed.length, nodes: gone }, 'adopted orphaned rooms');
      }
      return summary.recovered;
    } finally {
      this.adopting = false;
    }
  }

  /** One game per room code (the newest), and none this node already hosts or is activating. */
  private unhosted(games: ActiveGame[]): ActiveGame[] {
    const seen = new Set<string>();
    return games.filter((g) => {
      if (seen.has(g.room_code) || this.rooms.has(g.room_code) || this.activating.has(g.room_code)) return false;
      seen.add(g.room_code);
      return true;
    });
  }

  /**
   * A new room with its host. Retries of a creation are the gateway's to recognise (by the
   * command's id, per connection): every call here creates a room.
   */
  async createRoom(name: string, options: PartialOptions): Promise<Seat | Failure> {
    if (!this.accepting) return fail('unavailable', 'this node is shutting down; reconnect to another');
    for (let attempt = 0; attempt < 20; attempt++) {
      const code = randomRoomCode();
      const lease = await this.backends.leases.tryAcquire(code);
      if (!lease) continue;
      const playerId = newPlayerId();
      const gameId = randomUUID();
      let claimed: boolean;
      try {
        claimed = await this.index.claim(code, { game_id: gameId, host_id: playerId, created_at: new Date(this.now()).toISOString(), status: 'lobby', server_id: this.options.nodeId, epoch: 1 }, options);
      } catch (error) {
        await lease.release();
        this.log.warn({ room: code, err: (error as Error).message }, 'room creation failed');
        return fail('unavailable', 'the game store is unavailable; try again');
      }
      if (!claimed) {
        await lease.release();
        continue;
      }
      const actor = this.host(code, gameId, 1, lease, newRoomSnapshot(this.options.timing));
      const token = newToken(code, playerId);
      const outcome = await this.localCommand(actor, playerId, null, { type: 'create_room', name, options, game_id: gameId, room: code, token_hash: hashToken(token) }, true);
      if (!outcome.ok) {
        actor.stop(`creation failed: ${outcome.message}`);
        await this.backends.cache.deactivate(code).catch(() => undefined);
        return outcome;
      }
      void this.backends.cache.setPlayerRoom(playerId, code).catch(() => undefined);
      return { ok: true, room: code, player_id: playerId, token, seq: outcome.seq, view: outcome.view! };
    }
    return fail('unavailable', 'no free room code found; try again');
  }

  /**
   * A new seat in a room, by its code. A game that is over is no room to join (the code names
   * nothing), and looking does not wake it. The seat is new on every call (its player id is):
   * the gateway recognises retries.
   */
  async joinRoom(code: string, name: string): Promise<Seat | Failure> {
    const where = await this.locate(code);
    if ('ok' in where) return where;
    if ('ended' in where) return fail('unknown_room', `no room ${code}`);
    const playerId = newPlayerId();
    const token = newToken(code, playerId);
    const command: RoomCommand = { type: 'join_room', name, token_hash: hashToken(token) };
    const result = 'local' in where ? await this.localCommand(where.local, playerId, null, command, true) : await this.remote.request(where.remote, code, { type: 'command', player_id: playerId, command_id: null, command, want_view: true });
    if (!result.ok) return result;
    void this.backends.cache.setPlayerRoom(playerId, code).catch(() => undefined);
    return { ok: true, room: code, player_id: playerId, token, seq: result.seq, view: result.view! };
  }

  async resume(token: string): Promise<Seat | Failure> {
    const parsed = parseToken(token);
    if (!parsed) return fail('unauthorized', 'that token is not valid');
    const where = await this.locate(parsed.room);
    if ('ok' in where) return where.code === 'unknown_room' ? fail('unauthorized', 'that token is not valid (the room is gone)') : where;
    const claim: SeatClaim = { player_id: parsed.playerId, token_hash: hashToken(token) };
    const result =
      'local' in where
        ? this.localResume(where.local, claim)
        : 'remote' in where
          ? await this.remote.request(where.remote, parsed.room, { type: 'resume', ...claim })
          : await this.ended.resume(where.ended, claim);
    if (!result.ok) return result;
    if ('ended' in where) return { ok: true, room: parsed.room, player_id: parsed.playerId, token, seq: result.seq, view: result.view!, ended: true };
    void this.backends.cache.setPlayerRoom(parsed.playerId, parsed.room).catch(() => undefined);
    return { ok: true, room: parsed.room, player_id: parsed.playerId, token, seq: result.seq, view: result.view! };
  }

  /**
   * Sends a seated player's command to their room, wherever it is hosted. A command that finds
   * the room moving (drained, fenced, its node gone) follows it to its new place: with an id
   * it is retried (the room applies an id once); without one, only when the refusal says for
   * sure that nothing was applied (a local room that stopped).
   */
  async command(code: string, playerId: string, commandId: string | null, command: RoomCommand, reply: (outcome: Outcome) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // Whether to try again: only for a room that is moving, and only when it is safe.
      const again = (outcome: Outcome, certain: boolean) =>
        !outcome.ok && outcome.code === 'unavailable' && this.accepting && attempt < COMMAND_ATTEMPTS && (commandId !== null || certain);
      const where = await this.locate(code);
      let retry: boolean;
      if ('ok' in where) {
        retry = again(where, true);
        if (!retry) reply(where);
      } else if ('ended' in where) {
        retry = false;
        reply(endedCommand(where.ended, command));
      } else if ('local' in where) {
        const actor = where.local;
        // The reply goes out from the commit point itself, so the ack precedes the new state.
        retry = await new Promise<boolean>((resolve) =>
          actor.submit(playerId, commandId, command, (outcome) => {
            const later = again(outcome, true);
            if (!later) reply(outcome);
            resolve(later);
          }),
        );
      } else {
        const { view: _view, ...outcome } = await this.remote.request(where.remote, code, { type: 'command', player_id: playerId, command_id: commandId, command, want_view: false });
        retry = again(outcome, false);
        if (!retry) reply(outcome);
      }
      if (!retry) return;
      await new Promise((r) => setTimeout(r, 150 * attempt));
    }
  }

  /**
   * Sends `listener` its seat's views from now on. A game that is over and hosted nowhere is
   * not woken up to be watched ('ended': nothing will change).
   */
  async watch(code: string, listener: RoomListener): Promise<WatchOutcome> {
    const where = await this.locate(code);
    if ('ok' in where) return 'unreachable';
    if ('ended' in where) return 'ended';
    if ('local' in where) {
      where.local.attach(listener);
      return 'watching';
    }
    return (await this.remote.watch(where.remote, code, listener)) ? 'watching' : 'unreachable';
  }

  unwatch(code: string, listener: RoomListener): void {
    this.rooms.get(code)?.detach(listener);
    this.remote.unwatch(code, listener);
  }

  /**
   * Where a room is: hosted here, on a live peer (by the room's `server_id` and that node's
   * heartbeat), or nowhere, in which case this node takes it (lease, epoch, restore), unless
   * its game is over. A code the room index does not know is no room, refused from Redis alone.
   */
  async locate(code: string): Promise<Where> {
    const local = this.rooms.get(code);
    if (local && !local.stopped) return { local };
    let meta: RoomMeta | null;
    try {
      meta = await this.index.lookup(code);
    } catch (error) {
      return fail('unavailable', (error as Error).message);
    }
    if (!meta) return fail('unknown_room', `no room ${code}`);
    const owner = await this.liveOwnerOf(meta);
    if (owner) return { remote: owner };
    const found = await this.resolve(code);
    if (!('ok' in found) || found.code !== 'unavailable') return found;
    // Somebody took it meanwhile (its lease is held): route there if we can see who.
    const taken = await this.liveOwner(code);
    return taken ? { remote: taken } : found;
  }

  private async liveOwner(code: string): Promise<string | null> {
    return this.liveOwnerOf(await this.backends.cache.getRoom(code).catch(() => null));
  }

  private async liveOwnerOf(meta: RoomMeta | null): Promise<string | null> {
    const owner = meta?.server_id;
    if (!owner || owner === this.options.nodeId) return null;
    return (await this.backends.cache.liveNodes([owner])).has(owner) ? owner : null;
  }

  private localCommand(actor: RoomActor, playerId: string, commandId: string | null, command: RoomCommand, wantView: boolean): Promise<RemoteReply> {
    // A game that is over takes no new players, whoever still hosts it: its code names no room.
    if (command.type === 'join_room' && actor.game.phase === 'game_over') return Promise.resolve(fail('unknown_room', `no room ${actor.code}`));
    return new Promise((resolve) =>
      actor.submit(playerId, commandId, command, (outcome) => resolve(outcome.ok && wantView ? { ...outcome, view: actor.viewOf(playerId) } : outcome)),
    );
  }

  private localResume(actor: RoomActor, claim: SeatClaim): RemoteReply {
    const player = findPlayer(actor.game, claim.player_id);
    if (!player || !hashMatches(claim.token_hash, player.token_hash)) return fail('unauthorized', 'that token is not valid');
    return { ok: true, seq: actor.seq, duplicate: false, view: actor.viewOf(claim.player_id) };
  }


  /** A peer's request for a room this node hosts (or should: its cache entry names this node). */
  private async serve(message: Extract<BusMessage, { kind: 'request' }>): Promise<void> {
    const answer = (reply: RemoteReply) => {
      const out: BusMessage = { kind: 'reply', id: message.id, reply };
      void this.backends.bus.send(message.from, out).catch(() => undefined);
    };
    const found = await this.resolve(message.room);
    if ('ok' in found) return answer(found);
    const request = message.request;
    if ('ended' in found) {
      // Over, and no longer hosted here: only its standings can still be asked for.
      if (request.type === 'resume') return answer(await this.ended.resume(found.ended, request));
      return answer(request.type === 'command' ? endedCommand(found.ended, request.command) : fail('unknown_room', 'the game is over'));
    }
    const actor = found.local;
    const key = `${message.room}|${'player_id' in request ? request.player_id : ''}|${message.from}`;
    switch (request.type) {
      case 'command':
        return void this.localCommand(actor, request.player_id, request.command_id, request.command, request.want_view).then(answer);
      case 'resume':
        return answer(this.localResume(actor, request));
      case 'attach': {
        if (!this.remoteListeners.has(key)) {
          const from = message.from;
          const room = message.room;
          const listener: RoomListener = {
            playerId: request.player_id,
            state: (seq, frame) => void this.backends.bus.send(from, { kind: 'state', room, player_id: request.player_id, seq, frame } satisfies BusMessage).catch(() => undefined),
            evicted: (reason) => {
              this.remoteListeners.delete(key);
              void this.backends.bus.send(from, { kind: 'moved', room, reason } satisfies BusMessage).catch(() => undefined);
            },
            unseated: (reason) => {
              this.remoteListeners.delete(key);
              void this.backends.bus.send(from, { kind: 'unseated', room, player_id: request.player_id, reason } satisfies BusMessage).catch(() => undefined);
            },
          };
          this.remoteListeners.set(key, listener);
          actor.attach(listener);
        }
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      }
      case 'detach': {
        const listener = this.remoteListeners.get(key);
        if (listener) {
          this.remoteListeners.delete(key);
          actor.detach(listener);
        }
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      }
    }
  }

  private onBus(message: BusMessage): void {
    switch (message.kind) {
      case 'request':
        void this.serve(message).catch((error) => this.log.warn({ err: (error as Error).message }, 'serving a peer failed'));
        return;
      case 'node_started':
        if (message.node !== this.options.nodeId) this.remote.evictOwner(message.node, 'its server restarted');
        return;
      case 'node_gone':
        if (message.node === this.options.nodeId) return;
        this.remote.evictOwner(message.node, 'its server is gone');
        // Its leases lapse at about the same time as its heartbeat: look now, and once more a
        // little later for the rooms whose lease was renewed last.
        void this.adoptOrphans().catch(() => undefined);
        setTimeout(() => void this.adoptOrphans().catch(() => undefined), Math.floor(this.options.leaseTtlMs / 3) + 50).unref();
        return;
      default:
        this.remote.deliver(message);
    }
  }

  /** Watched rooms whose owner died or changed: their watchers here find them again. */
  private async checkRemoteOwners(): Promise<void> {
    for (const { room, owner } of this.remote.rooms()) {
      const current = await this.liveOwner(room);
      if (current !== owner) this.remote.evictRoom(room, 'the room’s server is gone');
    }
  }

  /**
   * The room's actor on this node, activating it if needed; or its game, if that is over (it
   * is not activated: see ended-games.ts); or a failure that says why not.
   */
  async resolve(code: string): Promise<{ local: RoomActor } | { ended: ActiveGame } | Failure> {
    try {
      const found = await this.room(code);
      if (!found) return fail('unknown_room', `no room ${code}`);
      return found instanceof RoomActor ? { local: found } : found;
    } catch (error) {
      this.log.warn({ room: code, err: (error as Error).message }, 'room activation failed');
      return fail('unavailable', (error as Error).message);
    }
  }

  private async room(code: string): Promise<RoomActor | { ended: ActiveGame } | null> {
    const existing = this.rooms.get(code);
    if (existing && !existing.stopped) return existing;
    if (!this.accepting) throw new Error('this node is shutting down; reconnect to another');
    let pending = this.activating.get(code);
    if (!pending) {
      pending = this.activate(code).finally(() => this.activating.delete(code));
      this.activating.set(code, pending);
    }
    return pending;
  }

  private async activate(code: string): Promise<RoomActor | { ended: ActiveGame } | null> {
    const { cache, events, leases } = this.backends;
    // The room index names the game; a code it does not know is no room (PostgreSQL is not asked).
    const meta = await cache.getRoom(code);
    if (!meta) return null;
    const game = await events.getGame(meta.game_id);
    if (!game || game.status === 'abandoned' || game.idle_seconds > this.options.roomTtlSeconds) return null;
    // Over: nothing can change, so it gets no lease and no epoch; its standings are read as they are.
    if (game.status === 'finished') return { ended: game };
    const lease = await leases.tryAcquire(code);
    if (!lease) throw new Error(`room ${code} is hosted by another node (${meta?.server_id ?? 'unknown'}); try again`);
    try {
      const epoch = await events.claimEpoch(game.game_id, this.options.nodeId);
      const snapshot = await cache.loadSnapshot(game.game_id);
      const usable = snapshot && snapshot.seq <= game.last_seq ? snapshot : null;
      const later = await events.loadEvents(game.game_id, usable?.seq ?? 0);
      const { context, source } = rebuildContext(usable, game.last_seq, later, this.options.timing);
      return await this.adopt(code, { ...game, epoch }, lease, context, source, false);
    } catch (error) {
      await lease.release();
      throw error;
    }
  }

  private async adopt(code: string, game: ActiveGame, lease: Lease, context: RoomContext, source: RestoreSource, registerCode: boolean): Promise<RoomActor> {
    const { cache } = this.backends;
    if (registerCode) {
      await cache.createRoom(code, {
        game_id: game.game_id,
        host_id: context.game.host_id,
        created_at: new Date(this.now()).toISOString(),
        status: game.status,
        server_id: this.options.nodeId,
        epoch: game.epoch,
      });
    }
    // host_id too: a room hash the index rebuilt from PostgreSQL lacks it.
    await cache.updateRoom(code, { server_id: this.options.nodeId, epoch: game.epoch, host_id: context.game.host_id });
    const actor = this.host(code, game.game_id, game.epoch, lease, restoreRoomSnapshot(context));
    this.metrics?.recoveries.inc({ source });
    this.log.debug({ room: code, epoch: game.epoch, seq: context.game.seq, source }, 'room restored');
    // A cache that was behind or empty catches up (write-behind; the events are the truth).
    if (source !== 'snapshot') this.snapshots.mark(actor);
    return actor;
  }

  private host(code: string, gameId: string, epoch: number, lease: Lease, snapshot: ReturnType<typeof newRoomSnapshot>): RoomActor {
    const actor = new RoomActor(code, gameId, epoch, lease, snapshot, {
      append: (request) => this.batcher.append(request),
      saveSnapshot: (a) => this.snapshots.mark(a),
      setConnected: (room, playerId, connected) => void this.backends.cache.setConnected(room, playerId, connected).catch(() => undefined),
      stopped: (a, reason) => this.forget(a, reason),
      now: this.now,
      log: this.log,
      metrics: this.metrics,
    });
    this.rooms.set(code, actor);
    this.metrics?.roomsActive.set(this.rooms.size);
    actor.start(this.options.timing);
    return actor;
  }

  private forget(actor: RoomActor, reason: string): void {
    if (this.rooms.get(actor.code) === actor) this.rooms.delete(actor.code);
    // Give the lease back so that a peer (or this node, later) can take the room at once.
    void actor.releaseLease().catch(() => undefined);
    this.snapshots.forget(actor.code);
    this.metrics?.roomsActive.set(this.rooms.size);
    if (reason.startsWith('fenced') || reason.startsWith('lease lost')) {
      this.metrics?.fenced.inc();
      this.log.warn({ room: actor.code, reason }, 'room stopped on this node');
    } else this.log.debug({ room: actor.code, reason }, 'room stopped on this node');
  }

  /** Rooms nobody watches, with nothing scheduled, idle for a while, leave memory. */
  async passivateIdle(): Promise<number> {
    const cutoff = this.now() - this.options.passivateAfterMs;
    const idle = [...this.rooms.values()].filter((a) => a.watcherCount === 0 && !a.hasDeadline && a.lastActivity < cutoff);
    for (const actor of idle) {
      await actor.idle();
      this.snapshots.mark(actor);
    }
    await this.snapshots.flush();
    for (const actor of idle) {
      actor.stop('passivated');
      // Nobody hosts it now, and nobody needs to: it is activated again on demand.
      await this.backends.events.releaseGame(actor.gameId, this.options.nodeId).catch(() => undefined);
      await this.backends.cache.updateRoom(actor.code, { server_id: '' }).catch(() => undefined);
    }
    return idle.length;
  }

  /**
   * Recovers every unfinished game at start (DESIGN.md / issue: recovery): snapshots in
   * batches from the cache, events only for the games whose snapshot is missing or behind.
   * A game that fails is logged with its reason and skipped; the others go on.
   */
  async recoverAll(batchSize = 500): Promise<RecoverySummary> {
    const started = performance.now();
    const summary = emptySummary();
    const games = await this.backends.events.activeGames(this.options.roomTtlSeconds);
    const unique = this.unhosted(games);
    summary.skipped += games.length - unique.length;
    for (let i = 0; i < unique.length; i += batchSize) {
      await this.recoverBatch(unique.slice(i, i + batchSize), summary);
    }
    summary.ms = Math.round(performance.now() - started);
    this.log.info(
      { recovered: summary.recovered, from: summary.from, skipped: summary.skipped, failed: summary.failed.length, ms: summary.ms },
      'recovery finished',
    );
    return summary;
  }

  private async recoverBatch(batch: ActiveGame[], summary: RecoverySummary): Promise<void> {
    const { cache, events, leases } = this.backends;
    const mine: Array<{ game: ActiveGame; lease: Lease }> = [];
    const fresh = batch.filter((game) => !this.rooms.has(game.room_code));
    summary.skipped += batch.length - fresh.length;
    const leased = await Promise.all(fresh.map((game) => leases.tryAcquire(game.room_code)));
    fresh.forEach((game, i) => {
      const lease = leased[i];
      if (lease) mine.push({ game, lease });
      else summary.skipped++; // another node hosts it
    });
    if (mine.length === 0) return;
    const ids = mine.map((m) => m.game.game_id);
    const [epochs, snapshots, metas] = await Promise.all([
      events.claimEpochs(ids, this.options.nodeId),
      cache.loadSnapshots(ids),
      Promise.all(mine.map((m) => cache.getRoom(m.game.room_code))),
    ]);
    const usable = new Map<string, SnapshotRecord | null>();
    mine.forEach((m, i) => {
      const snapshot = snapshots[i] ?? null;
      usable.set(m.game.game_id, snapshot && snapshot.seq <= m.game.last_seq ? snapshot : null);
    });
    const behind = mine.filter((m) => (usable.get(m.game.game_id)?.seq ?? -1) < m.game.last_seq);
    const later = await events.loadEventsOf(behind.map((m) => ({ game_id: m.game.game_id, after_seq: usable.get(m.game.game_id)?.seq ?? 0 })));
    await Promise.all(
      mine.map(async (m, i) => {
        const { game, lease } = m;
        try {
          const epoch = epochs.get(game.game_id);
          if (epoch === undefined) throw new Error('the game row vanished');
          const { context, source } = rebuildContext(usable.get(game.game_id) ?? null, game.last_seq, later.get(game.game_id) ?? ([] as EventRecord[]), this.options.timing);
          await this.adopt(game.room_code, { ...game, epoch }, lease, context, source, metas[i] === null);
          summary.recovered++;
          summary.from[source]++;
        } catch (error) {
          await lease.release();
          const reason = (error as Error).message;
          summary.failed.push({ game_id: game.game_id, room: game.room_code, reason });
          this.log.error({ game_id: game.game_id, room: game.room_code, reason }, 'game not recovered');
        }
      }),
    );
  }

  /**
   * Graceful stop: no new rooms or activations; every room finishes what it has queued
   * (bounded by `timeoutMs`), the appends and snapshots are flushed, the leases released.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.accepting = false;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const actors = [...this.rooms.values()];
    const settle = Promise.all(actors.map((a) => a.idle()));
    await Promise.race([settle, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await this.batcher.idle();
    for (const actor of actors) this.snapshots.mark(actor);
    await this.snapshots.flush();
    for (const actor of actors) actor.stop('draining');
    await Promise.all(actors.map((a) => a.releaseLease().catch(() => undefined)));
    // Peers adopt now instead of waiting for this heartbeat to lapse.
    await this.backends.cache.forgetNode(this.options.nodeId).catch(() => undefined);
    await this.backends.bus.broadcast({ kind: 'node_gone', node: this.options.nodeId } satisfies BusMessage).catch(() => undefined);
  }
}
