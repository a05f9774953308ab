import { randomInt, randomUUID } from 'node:crypto';
import { newRoomSnapshot, type RoomCommand } from '../../actors/room-machine.js';
import type { PartialOptions } from '../game/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { endedCommand, type SeatClaim } from './ended-games.js';
import { FailureDetector } from './failure-detector.js';
import { Lifecycle } from './lifecycle.js';
import { Peers } from './peers.js';
import { Placement, type Where } from './placement.js';
import { Recovery } from './recovery.js';
import { RemoteRooms, type RemoteReply } from './remote.js';
import type { Lease } from '../stores/leases.js';
import { IN_DOUBT, type Outcome, type RoomActor, type RoomListener } from './room-actor.js';
import type { SnapshotWriter } from './snapshot-writer.js';
import { hashToken, newPlayerId, newToken, parseToken } from './tokens.js';
import { fail, type Backends, type Failure, type RecoverySummary, type RuntimeDeps, type RuntimeOptions, type Seat, type Spectating, type WatchOutcome } from './types.js';

export type { Backends, Failure, RecoverySummary, RuntimeOptions, Seat, Spectating, WatchOutcome } from './types.js';

const CODE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I or O: codes are read aloud and typed

export function randomRoomCode(): string {
  let code = '';
  for (let i = 0; i < 4; i++) code += CODE_LETTERS[randomInt(CODE_LETTERS.length)];
  return code;
}

/**
 * How often a command (or a resume) follows a room that is moving before the player is told to
 * retry, and the longest wait before the n-th retry: short, since a room taken over from a dead
 * node is usually hosted again within a hundred milliseconds or so (README: failover). The news
 * that the room is hosted again ends the wait sooner (see Placement.nextChance).
 */
const COMMAND_ATTEMPTS = 6;
const RETRY_STEP_MS = 75;
/**
 * While PostgreSQL does not answer, a command (or a resume) that found its room unplayable
 * waits for it, up to this long, without using up its attempts, and goes again the moment it
 * answers (see PgReachability): the player gets the answer as soon as the room is back, not a
 * refusal to retry on their own timer.
 */
const STORE_WAIT_MS = 5000;
/** A resume is tried again (see resume) only within this long of its first try (or STORE_WAIT_MS while PostgreSQL is down). */
const RESUME_RETRY_MS = 1500;

/**
 * The runtime of a node, as players and the node see it: the player-facing verbs (create,
 * join, resume, command, watch), each finding its room through placement and reaching it here
 * or on its node; and the node's own verbs (recover, heartbeat, drain), delegated to the parts
 * named for them:
 *
 *   placement.ts  where a room lives: locate, activate, adopt, host, forget
 *   recovery.ts   every unfinished game at start; the rooms of nodes that died or drained
 *   peers.ts      serving other nodes' requests; hearing nodes come and go
 *   lifecycle.ts  heartbeat, background work, passivation, drain
 */
export class RoomRuntime {
  private readonly deps: RuntimeDeps;
  private readonly placement: Placement;
  private readonly recovery: Recovery;
  private readonly peers: Peers;
  private readonly lifecycle: Lifecycle;
  private readonly remote: RemoteRooms;
  /** Commands being served (drain waits for them: one that follows its room to another node answers before sockets close). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(backends: Backends, options: RuntimeOptions, log: Logger, metrics?: Metrics, now: () => number = Date.now) {
    this.deps = { backends, options, log, metrics, now };
    this.placement = new Placement(this.deps);
    this.recovery = new Recovery(this.placement, this.deps);
    this.placement.onOrphan = () => void this.recovery.adoptOrphans().catch((error) => log.warn({ err: (error as Error).message }, 'adoption failed'));
    this.remote = new RemoteRooms(backends.bus, options.nodeId, log, options.remoteTimeoutMs);
    this.peers = new Peers(
      this.placement,
      this.remote,
      this.deps,
      (node, named) => this.lookForOrphans(node, named),
      () => void this.recovery.reconcile().catch((error) => log.warn({ err: (error as Error).message }, 'reconciliation failed')),
      (node, rooms) => void this.recovery.adoptHandedOver(node, rooms).catch((error) => log.warn({ err: (error as Error).message }, 'taking handed rooms failed')),
    );
    const detector = new FailureDetector(backends.bus, backends.cache, options.nodeId, options.leaseTtlMs, now, (node, why, news) => void this.peerDead(node, why, news));
    this.lifecycle = new Lifecycle(this.placement, this.recovery, this.peers, this.deps, detector);
  }

  get roomCount(): number {
    return this.placement.roomCount;
  }

  get isAccepting(): boolean {
    return this.placement.isAccepting;
  }

  get snapshots(): SnapshotWriter {
    return this.placement.snapshots;
  }

  /** Whether PostgreSQL answers, as this node last saw it. */
  get storeAnswering(): boolean {
    return this.deps.backends.events.reachability.answering;
  }

  /**
   * The wait before trying again something that found its room `code` moving or unplayable:
   * while PostgreSQL does not answer (and `since` is less than STORE_WAIT_MS ago), until it
   * answers, and the attempt is not counted (false); else `ms` (true). Either way it ends
   * sooner when the room is hosted again, here or on a peer (see Placement.nextChance).
   */
  private async retryWait(code: string, ms: number, since: number, tried?: number): Promise<boolean> {
    const waited = this.deps.now() - since;
    // Hosted again while the attempt was on its way: no wait (the news came before this one).
    if (tried !== undefined && this.placement.handovers.hostedSince(code, tried)) return true;
    if (!this.storeAnswering && waited < STORE_WAIT_MS) {
      await this.placement.nextChance(code, STORE_WAIT_MS - waited);
      return false;
    }
    await this.placement.nextChance(code, ms);
    return true;
  }

  /**
   * Resolves after `ms`, or sooner when the room `code` is hosted again or PostgreSQL answers
   * again (a follower's wait); at once if a peer said it hosts the room since `tried` (the
   * news came while the attempt before was on its way).
   */
  nextChance(code: string, ms: number, tried?: number): Promise<void> {
    if (tried !== undefined && this.placement.handovers.hostedSince(code, tried)) return Promise.resolve();
    return this.placement.nextChance(code, ms);
  }

  /** Rooms currently hosted here (for tests and inspection). */
  hosted(): RoomActor[] {
    return this.placement.hosted();
  }

  heartbeat(): Promise<void> {
    return this.lifecycle.heartbeat();
  }

  /**
   * Rebuilds the Redis room index from PostgreSQL (at start, after migrations, before
   * recovery), having first abandoned the games idle past the room TTL.
   */
  async rebuildIndex(): Promise<void> {
    await this.placement.index.prepare();
  }

  announceStart(): Promise<void> {
    return this.peers.announceStart();
  }

  recoverAll(batchSize?: number): Promise<RecoverySummary> {
    return this.recovery.recoverAll(batchSize);
  }

  adoptOrphans(): Promise<number> {
    return this.recovery.adoptOrphans();
  }

  startBackground(): void {
    this.lifecycle.startBackground();
  }

  passivateIdle(): Promise<number> {
    return this.lifecycle.passivateIdle();
  }

  /**
   * Graceful stop (see Lifecycle.drain), `handedOver` called once the rooms are handed over;
   * then the commands still being served, which follow
   * their rooms to the nodes that adopt them (peers start when this node says it is gone, at the
   * end of the drain), are given up to `timeoutMs` more to be answered, before sockets close.
   */
  async drain(timeoutMs: number, handedOver: () => void | Promise<void> = () => {}): Promise<void> {
    const deadline = this.deps.now() + timeoutMs;
    await this.lifecycle.drain(timeoutMs, handedOver);
    const following = [...this.inFlight];
    if (following.length === 0) return;
    const started = this.deps.now();
    // What is left of the drain's bound, and at least 2 s of its own (README: the drain ends
    // within about DRAIN_TIMEOUT_MS plus 2 s): the commands were just sent on to the rooms' new
    // nodes, which need a moment to take them.
    const wait = Math.max(deadline - started, 2000);
    // A command that failed was answered by its caller; here only its end counts (and no rejection may go unhandled).
    const ended = Promise.all(following.map((p) => p.catch(() => undefined))).then(() => true);
    const settled = await Promise.race([ended, new Promise<boolean>((r) => setTimeout(() => r(false), wait).unref())]);
    this.deps.log.info({ commands: following.length, settled, ms: this.deps.now() - started }, 'commands followed their rooms to their new nodes');
  }

  /**
   * The failure detector took a peer for dead: its heartbeat is marked gone (so that every node
   * stops sending it players' requests at once, without waiting for its heartbeat to lapse),
   * and its rooms are taken over here (by compare-and-set on its leases, see Recovery).
   */
  private async peerDead(node: string, why: string, news: boolean): Promise<void> {
    this.deps.log[news ? 'warn' : 'info']({ node, why }, 'peer taken for dead');
    if (news) await this.deps.backends.cache.forgetNode(node).catch(() => undefined);
    this.peers.nodeGone(node);
  }

  /**
   * A peer left, or Redis saw its heartbeat expire (it missed its renewals for a whole TTL: news,
   * unlike a heartbeat merely missing, see liveness.ts): look now (this node's share of its
   * rooms), a moment later (whatever peers did not take: see Recovery.share), and later for the
   * rooms whose lease was renewed last (and, should the news have been lost, once the peer has
   * been missing for a whole TTL here). A drained peer named who adopts each room (`named`:
   * this node's): those are taken now, and the first look waits for the moment later, so that
   * each peer takes exactly its own; a room a named peer did not take is found then.
   */
  private lookForOrphans(node: string, named?: string[]): void {
    this.placement.liveness.heardGone(node);
    if (named) this.placement.handovers.drainedAt(node, this.deps.now());
    const look = () => void this.recovery.adoptOrphans().catch((error) => this.deps.log.warn({ err: (error as Error).message }, 'adoption failed'));
    if (named) void this.recovery.adoptNamed(node, named).catch((error) => this.deps.log.warn({ err: (error as Error).message }, 'adoption failed'));
    else look();
    const ttl = this.deps.options.leaseTtlMs;
    setTimeout(look, 150).unref();
    setTimeout(look, ttl + 50).unref();
  }

  /**
   * A new room with its host. Retries of a creation are the gateway's to recognise (by the
   * command's id, per connection): every call here creates a room.
   */
  async createRoom(name: string, options: PartialOptions): Promise<Seat | Failure> {
    if (!this.placement.isAccepting) return fail('unavailable', 'this node is shutting down; reconnect to another');
    for (let attempt = 0; attempt < 20; attempt++) {
      const code = randomRoomCode();
      if (this.placement.holds(code)) continue;
      const lease = await this.deps.backends.leases.tryAcquire(code);
      if (!lease) continue;
      // Counted as being taken until hosted: the game row names this node before the room runs.
      const seat = await this.placement.whileTaking([code], () => this.createWithLease(code, lease, name, options));
      if (seat) return seat;
    }
    // Every try refused: codes all taken, or (more likely) the lease store gave no lease (no quorum).
    return fail('unavailable', 'could not reserve a room code just now; try again');
  }

  /** A room under a lease just taken for `code`; null when the code turned out to be taken. */
  private async createWithLease(code: string, lease: Lease, name: string, options: PartialOptions): Promise<Seat | Failure | null> {
    const playerId = newPlayerId();
    const gameId = randomUUID();
    let claimed: boolean;
    try {
      claimed = await this.placement.index.claim(code, { game_id: gameId, host_id: playerId, created_at: new Date(this.deps.now()).toISOString(), status: 'lobby', server_id: this.deps.options.nodeId, epoch: 1 }, options);
    } catch (error) {
      await lease.release();
      this.deps.log.warn({ room: code, err: (error as Error).message }, 'room creation failed');
      return fail('unavailable', 'the game store is unavailable; try again');
    }
    if (!claimed) {
      await lease.release();
      return null;
    }
    const actor = this.placement.host(code, gameId, 1, lease, newRoomSnapshot(this.deps.options.timing));
    const token = newToken(code, playerId);
    const outcome = await this.placement.localCommand(actor, playerId, null, { type: 'create_room', name, options, game_id: gameId, room: code, token_hash: hashToken(token) }, true);
    if (!outcome.ok) {
      actor.stop(`creation failed: ${outcome.message}`);
      await this.deps.backends.cache.deactivate(code).catch(() => undefined);
      // No seat was given: the empty game row is not this node's to take back (reconciliation).
      await this.deps.backends.events.releaseGame(gameId, this.deps.options.nodeId).catch(() => undefined);
      return outcome;
    }
    void this.deps.backends.cache.setPlayerRoom(playerId, code).catch(() => undefined);
    return { ok: true, room: code, player_id: playerId, token, seq: outcome.seq, view: outcome.view! };
  }

  /**
   * A new seat in a room, by its code. A game that is over is no room to join (the code names
   * nothing), and looking does not wake it. The seat is new on every call (its player id is):
   * the gateway recognises retries.
   */
  async joinRoom(code: string, name: string): Promise<Seat | Failure> {
    const where = await this.placement.locate(code);
    if ('ok' in where) return where;
    if ('ended' in where) return fail('unknown_room', `no room ${code}`);
    const playerId = newPlayerId();
    const token = newToken(code, playerId);
    const command: RoomCommand = { type: 'join_room', name, token_hash: hashToken(token) };
    const result = 'local' in where ? await this.placement.localCommand(where.local, playerId, null, command, true) : await this.remote.request(where.remote, code, { type: 'command', player_id: playerId, command_id: null, command, want_view: true });
    if (!result.ok) return result;
    void this.deps.backends.cache.setPlayerRoom(playerId, code).catch(() => undefined);
    return { ok: true, room: code, player_id: playerId, token, seq: result.seq, view: result.view! };
  }

  /**
   * A spectator for the room `code`: its public view, if the room takes spectators (the host
   * may have turned them off; their number is capped). A game that is over and hosted nowhere
   * is no room to watch (like joining, the code names nothing).
   */
  async spectate(code: string): Promise<Spectating | Failure> {
    const where = await this.placement.locate(code);
    if ('ok' in where) return where;
    if ('ended' in where) return fail('unknown_room', `no room ${code}`);
    const result = 'local' in where ? this.placement.localSpectate(where.local) : await this.remote.request(where.remote, code, { type: 'spectate' });
    if (!result.ok) return result;
    return { ok: true, room: code, seq: result.seq, view: result.view! };
  }

  async resume(token: string): Promise<Seat | Failure> {
    const parsed = parseToken(token);
    if (!parsed) return fail('unauthorized', 'that token is not valid');
    const claim: SeatClaim = { player_id: parsed.playerId, token_hash: hashToken(token) };
    const since = this.deps.now();
    // A resume only reads the seat: any `unavailable` is worth another look before the player
    // is told to come back. A room being taken over (its lease changing hands) is hosted again
    // in a moment; one whose owner died while the resume waited for it, once a survivor adopts
    // it; one PostgreSQL's outage stopped, as soon as it answers. Each wait ends as the room is
    // hosted again (see retryWait).
    for (let attempt = 1; ; attempt++) {
      const tried = Date.now();
      const where = await this.placement.locate(parsed.room);
      let result: RemoteReply;
      if ('ok' in where) result = where.code === 'unknown_room' ? fail('unauthorized', 'that token is not valid (the room is gone)') : where;
      else if ('local' in where) result = this.placement.localResume(where.local, claim);
      else if ('remote' in where) result = await this.remote.request(where.remote, parsed.room, { type: 'resume', ...claim });
      else result = await this.placement.ended.resume(where.ended, claim);
      if (result.ok) {
        if ('ended' in where) return { ok: true, room: parsed.room, player_id: parsed.playerId, token, seq: result.seq, view: result.view!, ended: true };
        void this.deps.backends.cache.setPlayerRoom(parsed.playerId, parsed.room).catch(() => undefined);
        return { ok: true, room: parsed.room, player_id: parsed.playerId, token, seq: result.seq, view: result.view! };
      }
      // Only answers that came quickly are worth another try: an owner that let the resume wait
      // out its timeout (hung, not dead) would only do it again.
      if (result.code !== 'unavailable' || !this.placement.isAccepting || attempt >= COMMAND_ATTEMPTS || this.deps.now() - since > (this.storeAnswering ? RESUME_RETRY_MS : STORE_WAIT_MS)) return result;
      if (!(await this.retryWait(parsed.room, RETRY_STEP_MS * attempt, since, tried))) attempt--;
    }
  }


  /**
   * Sends a seated player's command to their room, wherever it is hosted. A command that finds
   * the room moving (drained, fenced, its node gone) follows it to its new place: with an id
   * it is retried (the room applies an id once); without one, only when the refusal says for
   * sure that nothing was applied (a local room that stopped). This holds on a draining node
   * too: its rooms move to peers, and the commands queued on them follow (drain waits for them).
   * A refusal in doubt (the store did not confirm the append, or the room's node did not
   * answer: it may have been applied) is retried by id to wherever the room is now, which
   * answers from the store's truth; and if the last attempt fails too, the player is told that
   * the outcome is unknown, never that nothing changed. A busy room is not asked again at once.
   */
  command(code: string, playerId: string, commandId: string | null, command: RoomCommand, reply: (outcome: Outcome) => void): Promise<void> {
    const served = this.serveCommand(code, playerId, commandId, command, reply);
    this.inFlight.add(served);
    const done = () => this.inFlight.delete(served);
    served.then(done, done);
    return served;
  }

  private async serveCommand(code: string, playerId: string, commandId: string | null, command: RoomCommand, reply: (outcome: Outcome) => void): Promise<void> {
    const since = this.deps.now();
    let doubt = false;
    // A refusal after an attempt in doubt keeps the doubt: that attempt may have been applied.
    const answer = (outcome: Outcome) => reply(!outcome.ok && outcome.code === 'unavailable' && doubt && !outcome.in_doubt ? IN_DOUBT : outcome);
    for (let attempt = 1; ; attempt++) {
      // Whether to try again: only for a room that is moving, and only when it is safe.
      const again = (outcome: Outcome, certain: boolean) => {
        if (outcome.ok) return false;
        doubt ||= outcome.in_doubt === true;
        return (
          outcome.code === 'unavailable' &&
          // A room settling an append in doubt refuses as busy (RoomActor.settle) while it asks
          // PostgreSQL: a command in doubt asks again by id, after the retry's wait.
          (!outcome.busy || (doubt && commandId !== null)) &&
          attempt < COMMAND_ATTEMPTS &&
          (commandId !== null || (certain && !outcome.in_doubt && !doubt))
        );
      };
      const tried = Date.now();
      const where = await this.placement.locate(code);
      let retry: boolean;
      if ('ok' in where) {
        retry = again(where, true);
        if (!retry) answer(where);
      } else if ('ended' in where) {
        retry = false;
        answer(endedCommand(where.ended, command));
      } else if ('local' in where) {
        const actor = where.local;
        // The reply goes out from the commit point itself, so the ack precedes the new state.
        retry = await new Promise<boolean>((resolve) =>
          actor.submit(playerId, commandId, command, (outcome) => {
            const later = again(outcome, true);
            if (!later) answer(outcome);
            resolve(later);
          }),
        );
      } else {
        const { view: _view, ...outcome } = await this.remote.request(where.remote, code, { type: 'command', player_id: playerId, command_id: commandId, command, want_view: false });
        retry = again(outcome, false);
        if (!retry) answer(outcome);
      }
      if (!retry) return;
      if (!(await this.retryWait(code, RETRY_STEP_MS * attempt, since, tried))) attempt--;
    }
  }

  /**
   * Sends `listener` its seat's views from now on. A game that is over and hosted nowhere is
   * not woken up to be watched ('ended': nothing will change).
   */
  async watch(code: string, listener: RoomListener): Promise<WatchOutcome> {
    try {
      const where = await this.placement.locate(code);
      if ('ok' in where) return 'unreachable';
      if ('ended' in where) return 'ended';
      if ('local' in where) {
        where.local.attach(listener);
        return 'watching';
      }
      return (await this.remote.watch(where.remote, code, listener)) ? 'watching' : 'unreachable';
    } catch (error) {
      // Watching is retried by its caller; a store that failed is one more reason to.
      this.deps.log.warn({ room: code, err: (error as Error).message }, 'watching a room failed');
      return 'unreachable';
    }
  }

  unwatch(code: string, listener: RoomListener): void {
    this.placement.local(code)?.detach(listener);
    this.remote.unwatch(code, listener);
  }
}
