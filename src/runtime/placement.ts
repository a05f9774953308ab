import { newRoomSnapshot, restoreRoomSnapshot, type RoomCommand, type RoomContext, type RoomEmitted } from '../../actors/room-machine.js';
import { findPlayer } from '../game/index.js';
import { EventStoreInDoubt, type ActiveGame, type EpochClaim } from '../stores/event-store.js';
import type { Lease } from '../stores/leases.js';
import type { RoomMeta } from '../stores/state-cache.js';
import { AppendBatcher } from './append-batcher.js';
import { Handovers } from './handovers.js';
import { EndedGames, type SeatClaim } from './ended-games.js';
import { Liveness } from './liveness.js';
import type { BusMessage, RemoteReply } from './remote.js';
import { CorruptGameError, rebuildContext, type RestoreSource } from './restore.js';
import { RoomActor, summaryOf } from './room-actor.js';
import { RoomIndex } from './room-index.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { hashMatches } from './tokens.js';
import { fail, type Failure, type RuntimeDeps } from './types.js';

/** The room's lease is held by another node (it hosts the room, or is taking it over). */
class LeaseHeldElsewhere extends Error {
  override name = 'LeaseHeldElsewhere';
}

/** Rooms activated at once when PostgreSQL answers again (each takes a few statements; the pool has 10 connections). */
const REACTIVATE_PARALLEL = 8;

/** Rooms named in one `hosted` message at most. */
const ANNOUNCE_CHUNK = 1000;

/** This node is draining: its rooms are on their way to peers (the asker waits for their news). */
class Draining extends Error {
  override name = 'Draining';
}

/** Where a room is: hosted here, on a live peer, or over and hosted nowhere (its game's row). */
export type Where = { local: RoomActor } | { remote: string } | { ended: ActiveGame } | Failure;

/**
 * Where a room lives: the rooms this node hosts, finding a room (here, on a live peer, or
 * nowhere, and then taking it: lease, epoch, restore), hosting a room and letting it go. Every
 * room this node hosts went through `host`; every one it lets go, through `forget`.
 */
export class Placement {
  private readonly rooms = new Map<string, RoomActor>();
  private readonly activating = new Map<string, Promise<RoomActor | { ended: ActiveGame } | null>>();
  /** Rooms whose lease this node holds and that it is restoring or creating (not hosted yet). */
  private readonly taking = new Map<string, number>();
  private accepting = true;
  /** Waits that end when their room is hosted (see nextChance), by room code. */
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Rooms hosted here since the last turn of the event loop, told to peers at its end (see announce). */
  private announcing: string[] | null = null;
  /** Rooms stopped by an append in doubt, to be activated again (see reactivate), with their attempts so far. */
  private readonly comingBack = new Map<string, { attempt: number; timer: NodeJS.Timeout | null }>();
  /** Asks for adoption of dead peers' rooms now (set by the runtime: recovery.ts adopts). */
  onOrphan: (() => void) | null = null;
  /** Which peers are dead (their rooms may be taken) and which may still run theirs. */
  readonly liveness: Liveness;
  readonly batcher: AppendBatcher;
  readonly snapshots: SnapshotWriter;
  readonly index: RoomIndex;
  readonly ended: EndedGames;
  /** Rooms hosted anew, here or on a peer: what waits for a moving room goes on at the news. */
  readonly handovers = new Handovers();

  constructor(private readonly deps: RuntimeDeps) {
    const { backends, options, log, metrics, now } = deps;
    this.batcher = new AppendBatcher(backends.events, metrics, options.commitSlots);
    this.snapshots = new SnapshotWriter(backends.cache, log, metrics, options.snapshotFlushMs ?? 0);
    this.index = new RoomIndex(backends.cache, backends.events, { nodeId: options.nodeId, ttlSeconds: options.roomTtlSeconds }, log, now);
    this.ended = new EndedGames(backends.cache, backends.events, options.timing, log);
    this.liveness = new Liveness(backends.cache, options.leaseTtlMs, now);
    backends.events.reachability.onAnswering((downMs) => void this.storeBack(downMs).catch((error) => log.warn({ err: (error as Error).message }, 'bringing rooms back failed')));
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /** From now on no room is activated or created here (drain). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Rooms currently hosted here. */
  hosted(): RoomActor[] {
    return [...this.rooms.values()];
  }

  /** The room's actor, if this node hosts it and it is running. */
  local(code: string): RoomActor | undefined {
    const actor = this.rooms.get(code);
    return actor && !actor.stopped ? actor : undefined;
  }

  /**
   * Whether this node hosts the room or is taking it now (activating past the look at the room
   * index, restoring, creating). An activation still looking, or deferred to adoption (see
   * activate), does not count: a player retrying every moment would otherwise hide the room from
   * the adoption it waits for.
   */
  holds(code: string): boolean {
    return this.rooms.has(code) || this.taking.has(code);
  }

  /**
   * Runs `work` with these rooms counted as being taken here (see holds), so that nothing on
   * this node takes them a second time, or reads them as stopped, meanwhile.
   */
  async whileTaking<T>(codes: readonly string[], work: () => Promise<T>): Promise<T> {
    for (const code of codes) this.taking.set(code, (this.taking.get(code) ?? 0) + 1);
    try {
      return await work();
    } finally {
      for (const code of codes) {
        const n = (this.taking.get(code) ?? 1) - 1;
        if (n > 0) this.taking.set(code, n);
        else this.taking.delete(code);
      }
    }
  }

  /** One game per room code (the newest), and none this node already hosts or is activating. */
  unhosted(games: ActiveGame[]): ActiveGame[] {
    const seen = new Set<string>();
    return games.filter((g) => {
      if (seen.has(g.room_code) || this.holds(g.room_code)) return false;
      seen.add(g.room_code);
      return true;
    });
  }

  /**
   * Where a room is: hosted here, on a peer that may be running it (the room's `server_id`, not
   * taken for dead: see liveness.ts), or nowhere, in which case this node takes it (lease,
   * epoch, restore), unless its game is over. A code the room index does not know is no room,
   * refused from Redis alone. Never throws: a store that fails makes it `unavailable`.
   */
  async locate(code: string): Promise<Where> {
    for (;;) {
      const local = this.local(code);
      if (local) return { local };
      // Date.now, as the hosted news is stamped (peers.ts, Handovers.hostedNews).
      const looked = Date.now();
      try {
        const meta = await this.index.lookup(code);
        if (!meta) return fail('unknown_room', `no room ${code}`);
        const owner = await this.ownerToAsk(meta);
        if (owner) return { remote: owner };
        // On its way to the adopter its drained node named: waited for, not taken here (handovers.ts).
        if (meta.server_id && meta.server_id !== this.deps.options.nodeId && this.handovers.handingOver(meta.server_id, this.deps.now())) {
          return { ...fail('unavailable', `room ${code} is moving to another node; try again`), moving: true };
        }
        // Its owner just died and adoption is taking it (see adoptionDeadline): wait for the
        // news that it is hosted (here or on a peer), then look again. One wait per caller, not
        // a retry every few milliseconds by each of the dead node's players.
        const until = this.adoptionDeadline(meta);
        if (until !== null) {
          this.onOrphan?.();
          // The room may have been hosted while the look was on its way back (adopted here,
          // or a peer's news came): that wake-up found no wait yet, and waiting now would last
          // the rest of the TTL for news already had. Looked at again at once instead.
          if (!this.local(code) && !this.handovers.hostedSince(code, looked)) await this.nextChance(code, until - this.deps.now());
          continue;
        }
        const found = await this.resolve(code);
        if (!('ok' in found) || found.code !== 'unavailable') return found;
        // Somebody took it meanwhile (its lease is held): route there if we can see who.
        const taken = await this.liveOwner(code);
        return taken ? { remote: taken } : found;
      } catch (error) {
        return fail('unavailable', (error as Error).message);
      }
    }
  }

  /**
   * Until when (this node's clock) a room is left to the batched adoption, or null if it is
   * not: for a lease TTL after its owner was found dead. A dead peer's rooms are adopted in
   * batches spread over the survivors (recovery.ts), while its players arrive on every survivor
   * at once; were each room activated where they land, the survivors would race for the same
   * leases and load PostgreSQL with a few statements per room, delaying the batch (measured:
   * most of a SIGKILL's 1-2 s). After that TTL, should adoption not have taken it (a game
   * PostgreSQL names no owner for, say), it is activated on demand as before. Decided on the
   * room index alone, without PostgreSQL. A game the index knows is over is not left to
   * adoption (it needs no lease: its standings are served at once); one that ended in the
   * instant before its owner died (the index not told yet) waits at most that TTL.
   */
  private adoptionDeadline(meta: RoomMeta): number | null {
    const { nodeId, leaseTtlMs } = this.deps.options;
    if (!this.onOrphan || meta.status === 'finished' || !meta.server_id || meta.server_id === nodeId) return null;
    const since = this.liveness.deadSince(meta.server_id);
    if (since === null) return null;
    const until = since + leaseTtlMs;
    return this.deps.now() < until ? until : null;
  }

  /** The peer the room's hash names as its owner, if it may be running it (never this node). Throws if the cache cannot be read. */
  async liveOwner(code: string): Promise<string | null> {
    return this.ownerToAsk(await this.deps.backends.cache.getRoom(code));
  }

  private async ownerToAsk(meta: RoomMeta | null): Promise<string | null> {
    const owner = meta?.server_id;
    if (!owner || owner === this.deps.options.nodeId) return null;
    return (await this.liveness.presumedAlive(owner)) ? owner : null;
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
      // The failure path only: which game the code named is worth a lookup here. While draining,
      // refusing to take rooms is the point: not worth a warning each time.
      const gameId = (await this.deps.backends.cache.getRoom(code).catch(() => null))?.game_id ?? null;
      const moving = error instanceof LeaseHeldElsewhere || error instanceof Draining;
      // A room being taken over by a peer is no news: not worth a warning each time either.
      this.deps.log[this.accepting && !moving ? 'warn' : 'debug']({ room: code, game_id: gameId, err: (error as Error).message }, 'room activation failed');
      return moving ? { ...fail('unavailable', (error as Error).message), moving: true } : fail('unavailable', (error as Error).message);
    }
  }

  private async room(code: string): Promise<RoomActor | { ended: ActiveGame } | null> {
    const existing = this.local(code);
    if (existing) return existing;
    if (!this.accepting) throw new Draining('this node is shutting down; reconnect to another');
    let pending = this.activating.get(code);
    if (!pending) {
      pending = this.activate(code).finally(() => this.activating.delete(code));
      this.activating.set(code, pending);
    }
    return pending;
  }

  private async activate(code: string): Promise<RoomActor | { ended: ActiveGame } | null> {
    const { options } = this.deps;
    // The room index names the game; a code it does not know is no room (PostgreSQL is not
    // asked). Through the index, not the hash alone: a hash Redis lost since the caller looked
    // (it restarted) is a miss the index does not vouch for.
    const meta = await this.index.lookup(code);
    if (!meta) return null;
    // Left to adoption for now (see adoptionDeadline; locate waits for it, other callers retry).
    if (this.adoptionDeadline(meta) !== null) {
      this.onOrphan?.();
      throw new LeaseHeldElsewhere(`room ${code} is being adopted from ${meta.server_id}, taken for dead; try again`);
    }
    return this.whileTaking([code], () => this.take(code, meta));
  }

  /** Activation past the look at the index: the game's row, then lease, epoch and restore. */
  private async take(code: string, meta: RoomMeta): Promise<RoomActor | { ended: ActiveGame } | null> {
    const { backends, options } = this.deps;
    const { cache, events, leases } = backends;
    const game = await events.getGame(meta.game_id);
    if (!game || game.status === 'abandoned' || game.idle_seconds > options.roomTtlSeconds) return null;
    // Over: nothing can change, so it gets no lease and no epoch; its standings are read as they are.
    if (game.status === 'finished') return { ended: game };
    // An owner known dead (see liveness.ts) need not be waited out: its lease is taken over.
    const orphanOf = meta.server_id && meta.server_id !== options.nodeId && this.liveness.knownDead(meta.server_id) ? meta.server_id : undefined;
    const lease = await leases.tryAcquire(code, orphanOf);
    if (!lease) throw new LeaseHeldElsewhere(`room ${code} is hosted by another node (${meta.server_id || 'unknown'}); try again`);
    let claim: EpochClaim | null = null;
    try {
      // The last sequence comes with the epoch (not from `game`, read before the lease): the
      // old owner may have committed a move in between, and the room must not lose it.
      claim = await events.claimEpoch(game.game_id, options.nodeId);
      const snapshot = await cache.loadSnapshot(game.game_id);
      const usable = snapshot && snapshot.seq <= claim.last_seq ? snapshot : null;
      const later = await events.loadEvents(game.game_id, usable?.seq ?? 0);
      const { context, source } = rebuildContext(usable, claim.last_seq, later, options.timing);
      return await this.adopt(code, { ...game, ...claim }, lease, context, source, false);
    } catch (error) {
      await lease.release();
      if (claim && error instanceof CorruptGameError) await this.letGo(game, claim.epoch, error.message);
      throw error;
    }
  }

  /**
   * A game this node cannot restore (its events do not replay): PostgreSQL stops naming this
   * node for it, so that it is not taken back at every reconciliation (it is tried again on
   * demand, and at the next start).
   */
  async letGo(game: Pick<ActiveGame, 'game_id' | 'room_code'>, epoch: number, reason: string): Promise<void> {
    const released = await this.deps.backends.events.releaseGame(game.game_id, this.deps.options.nodeId, epoch).catch(() => false);
    this.deps.log.error({ game_id: game.game_id, room: game.room_code, reason, released }, 'game cannot be restored; let go');
  }

  /**
   * Hosts a room restored from the stores, under a lease and epoch this node has taken. The
   * room hash names this node only if no newer epoch's owner is recorded there: if one is, this
   * node was fenced before it started, and does not host the room.
   */
  async adopt(code: string, game: ActiveGame, lease: Lease, context: RoomContext, source: RestoreSource, registerCode: boolean): Promise<RoomActor> {
    const { backends, options, log, metrics, now } = this.deps;
    const { cache } = backends;
    if (registerCode) {
      await cache.createRoom(code, {
        game_id: game.game_id,
        host_id: context.game.host_id,
        created_at: new Date(now()).toISOString(),
        status: game.status,
        server_id: options.nodeId,
        epoch: game.epoch,
      });
    }
    // host_id too: a room hash the index rebuilt from PostgreSQL lacks it.
    const owner = { server_id: options.nodeId, epoch: game.epoch };
    if (!(await cache.claimRoom(code, owner, { host_id: context.game.host_id }))) {
      // Not written: a newer owner is recorded, or the hash is gone (Redis lost it; the index
      // check puts it back from PostgreSQL, which names this node now).
      const meta = await cache.getRoom(code);
      if (meta && meta.epoch > game.epoch) {
        // PostgreSQL decides: a newer claim there fenced this node already; none, and the hash is wrong.
        const row = await backends.events.getGame(game.game_id);
        if (!row || row.epoch !== game.epoch) throw new Error(`room ${code} was taken at epoch ${row?.epoch ?? meta.epoch} (by ${row?.server_id ?? meta.server_id}) meanwhile`);
        log.warn({ room: code, epoch: game.epoch, recorded: meta.epoch }, 'room hash named an epoch PostgreSQL never gave; corrected');
        await cache.claimRoom(code, owner, { host_id: context.game.host_id }, true);
      }
    }
    const actor = this.host(code, game.game_id, game.epoch, lease, restoreRoomSnapshot(context));
    metrics?.recoveries.inc({ source });
    actor.log.debug({ epoch: game.epoch, seq: context.game.seq, source }, 'room restored');
    // A cache that was behind or empty catches up (write-behind; the events are the truth).
    if (source !== 'snapshot') this.snapshots.mark(actor);
    this.announce(code);
    return actor;
  }

  /**
   * Resolves after `ms`, or sooner: when the room is hosted here, or a peer says it hosts it now
   * (it adopted or re-activated it), or PostgreSQL answers again if it does not now. The wait of
   * a command, resume or follower that found its room moving or unplayable: it goes again the
   * moment the room is back, not at its next retry step.
   */
  nextChance(code: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(code);
      if (!set) this.waiting.set(code, (set = new Set()));
      const waiters = set;
      const done = () => {
        if (!waiters.delete(done)) return;
        if (waiters.size === 0 && this.waiting.get(code) === waiters) this.waiting.delete(code);
        resolve();
      };
      waiters.add(done);
      void this.deps.backends.events.reachability.wait(ms).then(done);
    });
  }

  /** These rooms are hosted now (here, or on the peer that says so): whatever waits for them goes. */
  wake(codes: readonly string[]): void {
    for (const code of codes) for (const done of [...(this.waiting.get(code) ?? [])]) done();
  }

  /**
   * A room restored here: its waiters here go at once, and peers are told (one message per turn
   * of the event loop for all the rooms restored in it), so that theirs go too.
   */
  private announce(code: string): void {
    this.wake([code]);
    if (this.announcing) {
      this.announcing.push(code);
      return;
    }
    this.announcing = [code];
    setImmediate(() => {
      const codes = this.announcing ?? [];
      this.announcing = null;
      for (let i = 0; i < codes.length; i += ANNOUNCE_CHUNK) {
        const rooms = codes.slice(i, i + ANNOUNCE_CHUNK);
        void this.deps.backends.bus.broadcast({ kind: 'hosted', node: this.deps.options.nodeId, rooms } satisfies BusMessage).catch(() => undefined);
      }
    });
  }

  /**
   * A game's last sequence and epoch as PostgreSQL has them, for a room whose append is in doubt
   * (RoomActor.settle): read once PostgreSQL answers (woken by the node's probe), tried again
   * while it does not, for up to `ms`; null if not read by then.
   */
  private async settle(gameId: string, ms: number): Promise<{ last_seq: number; epoch: number } | null> {
    const { backends, now } = this.deps;
    const until = now() + ms;
    while (now() < until) {
      if (!backends.events.reachability.answering) await backends.events.reachability.wait(until - now());
      try {
        const row = await backends.events.getGame(gameId);
        return row ? { last_seq: row.last_seq, epoch: row.epoch } : null;
      } catch {
        // Not answering after all (the probe saw it up a moment early), or the call timed out:
        // wait for the probe, a moment at least.
        await backends.events.reachability.wait(Math.min(100, Math.max(0, until - now())));
      }
    }
    return null;
  }

  /** Starts hosting a room here: its actor, wired to the batcher, the snapshot writer and the cache. */
  host(code: string, gameId: string, epoch: number, lease: Lease, snapshot: ReturnType<typeof newRoomSnapshot>): RoomActor {
    const { backends, options, log, metrics, now } = this.deps;
    const actor = new RoomActor(code, gameId, epoch, lease, snapshot, {
      append: (request) => this.batcher.append(request),
      saveSnapshot: (a) => this.snapshots.mark(a),
      setConnected: (room, playerId, connected) => void backends.cache.setConnected(room, playerId, connected).catch(() => undefined),
      stopped: (a, reason) => this.forget(a, reason),
      nextGame: (a, next, at) => this.nextGame(a, next, at),
      settle: (gameId, ms) => this.settle(gameId, ms),
      now,
      log,
      metrics,
      seatRate: options.seatRate ?? { perSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY },
      mailbox: options.mailbox,
      maxSpectators: options.maxSpectators,
    });
    this.rooms.set(code, actor);
    metrics?.roomsActive.set(this.rooms.size);
    actor.start(options.timing);
    return actor;
  }

  /**
   * "Play again" at a finished room hosted here: the new game gets its row (epoch 1, this node),
   * its opening events, the room code (the Redis room hash now names it), and a room actor here
   * under the same lease, all before the old room stops. The old game stays finished in the
   * store: its standings and events are kept; its players' tokens name the room, so they resume
   * into the new game.
   */
  async nextGame(old: RoomActor, next: Extract<RoomEmitted, { type: 'next_game' }>, now: number): Promise<void> {
    const { backends, options, log } = this.deps;
    const game = next.context.game;
    const gameId = next.game_id;
    // PostgreSQL refuses a second unfinished game for the code (another "play again" won).
    if (!(await backends.events.createGame({ game_id: gameId, room_code: old.code, epoch: 1, server_id: options.nodeId, options: game.options }))) {
      throw new Error(`room ${old.code} already has an unfinished game`);
    }
    try {
      await this.batcher.append({
        game_id: gameId,
        epoch: 1,
        expected_seq: 0,
        events: next.events.map((event) => ({
          type: event.type,
          player_id: event.player_id,
          command_id: next.command_id,
          sender_id: next.command_id ? next.player_id : null,
          command_fp: next.fingerprint,
          data: event.data,
        })),
        at: new Date(now),
        summary: summaryOf(game),
      });
    } catch (error) {
      // Not in doubt: nothing was stored, so the empty game must not hold the room code.
      if (!(error instanceof EventStoreInDoubt)) await backends.events.abandonEmptyGame(gameId).catch(() => undefined);
      throw error;
    }
    const meta = { game_id: gameId, host_id: game.host_id, created_at: new Date(now).toISOString(), status: 'playing' as const, server_id: options.nodeId, epoch: 1 };
    try {
      if (!(await backends.cache.replaceRoom(old.code, old.gameId, meta))) log.warn({ room: old.code, game_id: gameId }, 'room hash named another game; left alone');
    } catch (error) {
      // The game is stored and runs here; other nodes find it once the room index is rebuilt.
      log.warn({ room: old.code, game_id: gameId, err: (error as Error).message }, 'room hash not updated for the new game');
    }
    const actor = this.host(old.code, gameId, 1, old.handOverLease(), restoreRoomSnapshot(next.context));
    this.snapshots.mark(actor);
    actor.log.info({ previous_game_id: old.gameId, players: game.players.length }, 'new game at the same table');
  }

  private forget(actor: RoomActor, reason: string): void {
    const { metrics } = this.deps;
    if (this.rooms.get(actor.code) === actor) this.rooms.delete(actor.code);
    // Give the lease back so that a peer (or this node, later) can take the room at once. Until
    // it is given back the room counts as this node's (holds): its own lease, still in Redis,
    // must not read as another node's to this node's reconciliation.
    void this.whileTaking([actor.code], () => actor.releaseLease()).catch(() => undefined);
    this.snapshots.forget(actor.code);
    metrics?.roomsActive.set(this.rooms.size);
    if (reason.startsWith('fenced') || reason.startsWith('lease lost')) {
      metrics?.fenced.inc();
      actor.log.warn({ reason }, 'room stopped on this node');
    } else actor.log.debug({ reason }, 'room stopped on this node');
    // A room that people were watching, or whose timer was set, is brought back without waiting
    // for anyone to ask; one that nobody watches comes back on demand.
    if (reason.startsWith('in doubt') && (actor.hasDeadline || actor.wasWatched)) this.reactivate(actor.code);
  }

  /**
   * Activates a room again from the stores after it stopped with an append in doubt. While
   * PostgreSQL does not answer, nothing is tried: the room waits for it to answer again (see
   * storeBack, one probe for the whole node); otherwise (the store answers, the activation
   * failed for another reason) it is tried again with growing delays, until it is hosted (here
   * or elsewhere) or about half a minute has passed (then the next command or resume brings it
   * back).
   */
  private reactivate(code: string, attempt = 0): void {
    const earlier = this.comingBack.get(code);
    if (earlier?.timer) clearTimeout(earlier.timer);
    if (attempt >= 18) {
      this.comingBack.delete(code);
      return;
    }
    const entry: { attempt: number; timer: NodeJS.Timeout | null } = { attempt, timer: null };
    this.comingBack.set(code, entry);
    if (!this.deps.backends.events.reachability.answering) return;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      void this.bringBack(code);
    }, Math.min(100 * 2 ** attempt, 2000));
    entry.timer.unref();
  }

  /** One attempt at activating a room stopped in doubt (see reactivate); true if it is hosted now, here or elsewhere. */
  private async bringBack(code: string): Promise<boolean> {
    const entry = this.comingBack.get(code);
    if (!entry) return false;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    try {
      if (!this.accepting) {
        this.comingBack.delete(code);
        return false;
      }
      if (this.holds(code) || (await this.liveOwner(code))) {
        this.comingBack.delete(code);
        return true;
      }
      const found = await this.resolve(code);
      if ('ok' in found && found.code === 'unavailable') {
        if (this.comingBack.get(code) === entry) this.reactivate(code, entry.attempt + 1);
        return false;
      }
      this.comingBack.delete(code);
      return !('ok' in found);
    } catch {
      if (this.comingBack.get(code) === entry) this.reactivate(code, entry.attempt + 1);
      return false;
    }
  }

  /**
   * PostgreSQL answers again after an outage this node saw: the rooms it stopped are activated
   * again now (a few at a time, so that they do not all wait on the pool at once), and the
   * rooms hosted here whose timer failed to store its move try it again now.
   */
  private async storeBack(downMs: number): Promise<void> {
    const started = this.deps.now();
    let retried = 0;
    for (const actor of this.rooms.values()) if (actor.retryNow()) retried++;
    const codes = [...this.comingBack.keys()];
    let hosted = 0;
    let next = 0;
    const worker = async () => {
      while (next < codes.length) if (await this.bringBack(codes[next++]!)) hosted++;
    };
    await Promise.all(Array.from({ length: Math.min(REACTIVATE_PARALLEL, codes.length) }, worker));
    this.deps.log.info({ down_ms: downMs, retried, stopped: codes.length, hosted, ms: this.deps.now() - started }, 'PostgreSQL answers again: rooms it stopped activated again, failed timers retried');
  }

  /** A command to a room hosted here; with `wantView`, the sender's view comes back with the outcome. */
  localCommand(actor: RoomActor, playerId: string, commandId: string | null, command: RoomCommand, wantView: boolean): Promise<RemoteReply> {
    // A game that is over takes no new players, whoever still hosts it: its code names no room.
    if (command.type === 'join_room' && actor.game.phase === 'game_over') return Promise.resolve(fail('unknown_room', `no room ${actor.code}`));
    return new Promise((resolve) =>
      actor.submit(playerId, commandId, command, (outcome) => resolve(outcome.ok && wantView ? { ...outcome, view: actor.viewOf(playerId) } : outcome)),
    );
  }

  /** A spectator arriving at a room hosted here: the public view, unless the room refuses. */
  localSpectate(actor: RoomActor): RemoteReply {
    const refusal = actor.admitSpectator();
    if (refusal) return fail('unauthorized', refusal);
    return { ok: true, seq: actor.seq, duplicate: false, view: actor.viewOf(null) };
  }

  /** A seat claimed by token hash in a room hosted here. */
  localResume(actor: RoomActor, claim: SeatClaim): RemoteReply {
    const player = findPlayer(actor.game, claim.player_id);
    if (!player || !hashMatches(claim.token_hash, player.token_hash)) return fail('unauthorized', 'that token is not valid');
    return { ok: true, seq: actor.seq, duplicate: false, view: actor.viewOf(claim.player_id) };
  }
}
