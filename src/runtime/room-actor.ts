import { stepRoom, type RoomCommand, type RoomContext, type RoomEmitted, type RoomEvent, type RoomSnapshot, type Timing } from '../../actors/room-machine.js';
import { findPlayer, spectatorsAllowed, viewFor, type GameEvent, type GameState, type GameView, type RoomTimers } from '../game/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { AppendRequest } from '../stores/event-store.js';
import type { Lease } from '../stores/leases.js';
import type { SnapshotRecord } from '../stores/state-cache.js';
import { EventDataRejected, EventStoreInDoubt } from '../stores/event-store.js';
import { FencedError } from './append-batcher.js';
import { verdict, type Verdict } from './doubt.js';
import { freshEntropy } from './entropy.js';
import { deliver, type RoomListener } from './listener.js';
import { RoomSpectators } from './spectators.js';
import { ViewFanout, type Views } from './view-fanout.js';
import { AppendedSummary, summaryOf } from './games-row.js';

export type { RoomListener } from './listener.js';
export { DEFAULT_SPECTATORS_PER_ROOM } from './spectators.js';
export { summaryOf } from './games-row.js';

export type ErrorCode =
  | 'bad_request'
  | 'unknown_room'
  | 'room_full'
  | 'game_in_progress'
  | 'not_host'
  | 'not_your_turn'
  | 'invalid_move'
  | 'unauthorized'
  | 'rate_limited'
  | 'unavailable';

/**
 * What became of a command. A refusal means nothing changed, except when `in_doubt`: the store
 * did not confirm the append, so it may have been applied (a retry with the same id is safe:
 * the room applies an id at most once). `busy`: refused at once because the room's mailbox is
 * full or the command waited too long in it (nothing changed; trying again at once won't help).
 * `moving`: the room is on its way to another node (see Failure).
 * The flags stay on the server: clients get the code and the message.
 */
export type Outcome =
  | { ok: true; seq: number; duplicate: boolean }
  | { ok: false; code: ErrorCode; message: string; in_doubt?: true; busy?: true; moving?: true };

/** The refusal of a command whose append the store did not confirm. */
export const IN_DOUBT: Outcome = {
  ok: false,
  code: 'unavailable',
  message: 'the game store did not confirm your command, so whether it was applied is unknown; retrying with the same id is safe (it is applied at most once)',
  in_doubt: true,
};

type Job =
  | { kind: 'command'; player_id: string; command_id: string | null; command: RoomCommand; reply: (outcome: Outcome) => void; at: number; answered?: boolean }
  | { kind: 'tick' }
  | { kind: 'presence'; player_id: string; connected: boolean };

/** Bounds of a room's mailbox (ROOM_MAILBOX_MAX; the wait is PG_QUERY_TIMEOUT_MS). */
export interface MailboxLimits {
  /** Commands queued at most; past it a command is refused at once. */
  max: number;
  /** A command that waited longer than this is refused when its turn comes, unprocessed. */
  maxWaitMs: number;
}

export const DEFAULT_MAILBOX: MailboxLimits = { max: 64, maxWaitMs: 3000 };

export interface ActorDeps {
  append(request: AppendRequest): Promise<void>;
  saveSnapshot(actor: RoomActor): void;
  setConnected(code: string, playerId: string, connected: boolean): void;
  stopped(actor: RoomActor, reason: string): void;
  /**
   * "Play again": stores the new game's opening events under its own id and hosts it at this
   * table's code, taking over this room's lease (see Placement.nextGame). Throws if not stored.
   */
  nextGame(actor: RoomActor, next: Extract<RoomEmitted, { type: 'next_game' }>, now: number): Promise<void>;
  /**
   * For an append in doubt: waits up to `ms` for the store to answer again, then reads the
   * game's last sequence and epoch as the store has them; null if it could not by then.
   */
  settle?(gameId: string, ms: number): Promise<{ last_seq: number; epoch: number } | null>;
  now(): number;
  log: Logger;
  metrics?: Metrics;
  /** Commands a seat may send per second, and in a burst, over all its connections and nodes. */
  seatRate: { perSecond: number; burst: number };
  mailbox?: MailboxLimits;
  /** Spectators of the room at most, over every node (SPECTATORS_PER_ROOM). */
  maxSpectators?: number;
}

/** Connections that may hold one seat of a room at once (on this node, or one per peer node). */
export const MAX_LISTENERS_PER_SEAT = 8;

/** Retry delay for a timer-driven move whose append failed (the store is down). */
const RETRY_MS = 1000;

/** How long an append in doubt may wait for the store to say whether it is in (see settle). */
const SETTLE_WAIT_MS = 10_000;

/** A command that arrives while an append in doubt waits for the store (see settle). */
const SETTLING: Outcome = { ok: false, code: 'unavailable', message: 'the room is busy; nothing changed; try again shortly', busy: true };

/** A command that finds the room stopping or handed over: it follows the room. */
const MOVING: Outcome = { ok: false, code: 'unavailable', message: 'the room is moving; try again' };

/**
 * One room on this node: a mailbox processed strictly one job at a time. Each job is a pure
 * transition of the room machine; its domain events are appended to PostgreSQL (fenced by the
 * epoch) and only then is the new snapshot adopted, the command acked, the snapshot written to
 * the cache, and each watcher sent its own view.
 */
export class RoomActor {
  private snapshot: RoomSnapshot;
  private readonly queue: Job[] = [];
  /** Commands in `queue` (timer and presence jobs are coalesced, so they stay few). */
  private queuedCommands = 0;
  private readonly mailbox: MailboxLimits;
  private running = false;
  private stoppedReason: string | null = null;
  /** Closed for a hand-over (see close): no job is taken or started; `stop` follows. */
  private closing = false;
  /** An append in doubt waits for the store's word (see settle): commands are refused meanwhile. */
  private settling = false;
  /**
   * The sequence at which an append in doubt was found not stored ('out'), until an append
   * commits for sure: that append may still commit late (see doubt.ts).
   */
  private outAt: number | null = null;
  private leaseHandedOver = false;
  private timer: NodeJS.Timeout | null = null;
  /** The timer set is a retry of a timer-driven move whose append failed (see retryNow). */
  private retrying = false;
  /** Whether anyone watched the room when it stopped. */
  private watchedAtStop = false;
  private readonly listeners = new Map<string, Set<RoomListener>>();
  /** Who watches without a seat (spectators.ts): all get the one public frame of each change. */
  private readonly spectators: RoomSpectators;
  /** The games row's summary (options, players, winners) as last appended: unchanged ones are not sent again. */
  private readonly appendedSummary = new AppendedSummary();
  /** The views sent after each change, built once per change for all watchers. */
  private readonly fanout = new ViewFanout();
  private readonly seatBudgets = new Map<string, { tokens: number; at: number }>();
  private idleWaiters: Array<() => void> = [];
  lastActivity: number;
  /** The node's logger bound to this room: every line about it names the room and its game. */
  readonly log: Logger;

  constructor(
    readonly code: string,
    readonly gameId: string,
    readonly epoch: number,
    private readonly lease: Lease,
    snapshot: RoomSnapshot,
    private readonly deps: ActorDeps,
  ) {
    this.snapshot = snapshot;
    this.lastActivity = deps.now();
    this.log = deps.log.child({ room: code, game_id: gameId });
    // Also when the lease was lost while the room was being restored (before this actor
    // existed): the lease tells a late listener too.
    this.mailbox = deps.mailbox ?? DEFAULT_MAILBOX;
    this.spectators = new RoomSpectators(
      {
        now: () => this.deps.now(),
        allowed: () => spectatorsAllowed(this.game.options),
        stopped: () => this.stoppedReason !== null,
        current: () => this.currentViews().for(null),
        pushViews: () => this.pushViews(),
      },
      deps.maxSpectators,
    );
    lease.onLost((reason) => this.stop(`lease lost: ${reason}`));
  }

  get context(): RoomContext {
    return this.snapshot.context;
  }

  get game(): GameState {
    return this.snapshot.context.game;
  }

  get seq(): number {
    return this.snapshot.context.game.seq;
  }

  /**
   * Whether this node no longer acts for the room: stopped, or its lease ran out by this
   * node's own clock, in which case it stops now (see `acting`). Whoever finds the room here
   * (placement's `local`) asks this, so a stalled node that wakes past its lease answers for
   * the room no more, whatever it reads first: a command, a resume, a watcher.
   */
  get stopped(): boolean {
    return !this.acting();
  }

  /**
   * Whether the room may still act here. A node that stalled past its lease (SIGSTOP, a long
   * pause) may wake to work queued behind the stall (a socket closed, a peer's request) before
   * the lease's renewal runs and finds it lost; meanwhile a peer may have adopted the room. So
   * every job and every view pushed first asks the lease, which knows its expiry.
   */
  private acting(): boolean {
    if (this.stoppedReason === null && !this.lease.held()) this.stop('lease lost: expired by this node’s clock');
    return this.stoppedReason === null;
  }

  /** Jobs waiting in the mailbox (not counting the one in progress). */
  get queueLength(): number {
    return this.queue.length;
  }

  /** Connections watching a seat (a peer node's watcher of a seat counts once). */
  get watcherCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Spectators of the room, here and (as their nodes last said) on peer nodes. */
  get spectatorCount(): number {
    return this.spectators.count;
  }

  get maxSpectators(): number {
    return this.spectators.max;
  }

  /**
   * Whether one more spectator may watch: a refusal's reason (spectating turned off by the
   * host, or the room full of spectators), or null.
   */
  spectatorRefusal(): string | null {
    return this.spectators.refusal();
  }

  /** A spectator arriving (`spectate`, from here or a peer): a place held for it, or why not. */
  admitSpectator(): string | null {
    return this.spectators.admit();
  }

  /** `n` spectators admitted earlier are now counted watching: their held places go. */
  spectatorsArrived(n: number): void {
    this.spectators.arrived(n);
  }

  /** The number of spectators changed on a peer node: the views show it shortly. */
  spectatorsChanged(): void {
    this.spectators.changed();
  }

  /**
   * The snapshot as persisted: the state value and the context (presence is per node and is
   * not kept). The room machine has no children and its context is plain data, so this is
   * what XState's getPersistedSnapshot would give, without its deep copy on every move.
   */
  persisted(): SnapshotRecord {
    return { seq: this.seq, epoch: this.epoch, snapshot: { value: this.snapshot.value, context: { ...this.context, connected: [] } } };
  }

  /**
   * Queues a command. `reply` is called synchronously at the commit point, before the views go
   * out, so a player's ack precedes the state it caused.
   */
  submit(player_id: string, command_id: string | null, command: RoomCommand, reply: (outcome: Outcome) => void): void {
    if (!this.takeSeatBudget(player_id)) {
      this.deps.metrics?.commands.inc({ outcome: 'rate_limited' });
      return reply({ ok: false, code: 'rate_limited', message: 'too many commands for this seat; slow down' });
    }
    this.enqueue({ kind: 'command', player_id, command_id, command, reply, at: this.deps.now() });
  }

  /**
   * A seat's commands are rated here, where all of them arrive whatever connection or node
   * they come through (a socket's own rate is no bound when a seat is held by many sockets).
   */
  private takeSeatBudget(playerId: string): boolean {
    const { perSecond, burst } = this.deps.seatRate;
    const now = this.deps.now();
    const budget = this.seatBudgets.get(playerId) ?? { tokens: burst, at: now };
    budget.tokens = Math.min(burst, budget.tokens + ((now - budget.at) / 1000) * perSecond);
    budget.at = now;
    this.seatBudgets.set(playerId, budget);
    if (budget.tokens < 1) return false;
    budget.tokens -= 1;
    return true;
  }

  /** Starts the room after activation or restore: arms its timer from the deadline in context. */
  start(timing: Timing): void {
    this.transitionWithoutEvents({ type: 'configure', timing, now: this.deps.now() });
  }

  attach(listener: RoomListener): void {
    if (!this.acting()) {
      // Stopped between being found and being watched: send the watcher after it again.
      listener.evicted(this.stoppedReason ?? 'stopped');
      return;
    }
    if (listener.playerId === null) return this.spectators.attach(listener);
    // A seat given up between a resume and its watch stays given up.
    if (findPlayer(this.game, listener.playerId)?.is_cpu !== false) {
      listener.unseated('you have no seat in this room');
      return;
    }
    let set = this.listeners.get(listener.playerId);
    if (!set) this.listeners.set(listener.playerId, (set = new Set()));
    if (set.size >= MAX_LISTENERS_PER_SEAT) {
      // Every view goes to every connection of the seat: a seat held by hundreds of sockets
      // multiplies the room's work. The oldest connection gives way to the newest.
      const oldest = set.values().next().value as RoomListener;
      set.delete(oldest);
      oldest.unseated('too many connections hold this seat');
    }
    set.add(listener);
    if (set.size === 1) this.enqueue({ kind: 'presence', player_id: listener.playerId, connected: true });
    else deliver(listener, this.currentViews().for(listener.playerId));
  }

  /** Removes a watcher wherever it is filed (its seat may have been cleared meanwhile). */
  detach(listener: RoomListener): void {
    if (this.spectators.detach(listener)) return;
    for (const [playerId, set] of this.listeners) {
      if (!set.delete(listener)) continue;
      if (set.size === 0) {
        this.listeners.delete(playerId);
        this.enqueue({ kind: 'presence', player_id: playerId, connected: false });
      }
      return;
    }
  }

  /**
   * Sends an attached watcher the seat's current view again (a peer's watcher that lost a
   * frame on the way). Nothing for a watcher not attached here, or once the room stopped.
   */
  resend(listener: RoomListener): void {
    if (!this.acting()) return;
    if (listener.playerId === null) return this.spectators.resend(listener);
    if (!this.listeners.get(listener.playerId)?.has(listener)) return;
    deliver(listener, this.currentViews().for(listener.playerId));
  }

  /** The room's deadlines a view shows (the countdown to the next round). */
  private timers(): RoomTimers {
    const deadline = this.context.deadline;
    return { next_round_at: deadline?.kind === 'round' ? deadline.at : null };
  }

  /** The views of the room as it is now, for any seat (null: the spectators'), built once per change. */
  private currentViews(): Views {
    return this.fanout.views(this.game, this.seq, this.context.connected, this.timers(), this.spectators.shown);
  }

  viewOf(playerId: string | null): GameView {
    return viewFor(this.game, playerId, new Set(this.context.connected), this.timers(), this.spectators.shown);
  }

  /**
   * Files a job. The mailbox is bounded: past `mailbox.max` queued commands a command is
   * refused at once (nothing changed); a timer job already waiting stands for a new one, and a
   * seat's presence job already waiting takes the newer presence, so neither piles up.
   */
  private enqueue(job: Job): void {
    if (!this.acting() || this.closing) {
      if (job.kind === 'command') job.reply(MOVING);
      return;
    }
    if (job.kind === 'command') {
      if (this.settling) return job.reply(SETTLING);
      if (this.queuedCommands >= this.mailbox.max) {
        this.deps.metrics?.commands.inc({ outcome: 'busy' });
        job.reply({ ok: false, code: 'unavailable', message: 'the room is busy; nothing changed; try again shortly', busy: true });
        return;
      }
      this.queuedCommands++;
    } else if (job.kind === 'tick') {
      if (this.queue.some((queued) => queued.kind === 'tick')) return;
    } else {
      const waiting = this.queue.find((queued) => queued.kind === 'presence' && queued.player_id === job.player_id);
      if (waiting) {
        (waiting as Extract<Job, { kind: 'presence' }>).connected = job.connected;
        return;
      }
    }
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      // Each job asks the lease first: a stall may have outlived it since the last one.
      while (this.queue.length > 0 && this.acting() && !this.closing) {
        const job = this.queue.shift() as Job;
        if (job.kind === 'command') this.queuedCommands--;
        await this.process(job).catch((error: unknown) => this.failed(job, error));
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * A job that threw (a bug: the machine and the store are meant to refuse, not throw) is
   * dropped and the room carries on as it was: one poison command or timer must not take the
   * room, or the node, down. Its sender is told nothing changed (unless it already got its
   * answer at the commit point); a timer is tried again later.
   */
  private failed(job: Job, error: unknown): void {
    const player = job.kind === 'tick' ? {} : { player_id: job.player_id };
    this.log.error({ ...player, job: job.kind, err: (error as Error)?.message, stack: (error as Error)?.stack }, 'a room job failed; dropped');
    this.deps.metrics?.commands.inc({ outcome: 'failed' });
    if (job.kind === 'command' && !job.answered) job.reply({ ok: false, code: 'unavailable', message: 'internal error; nothing changed' });
    if (job.kind === 'tick') this.armTimer(RETRY_MS);
  }

  /** Resolves once the job in flight (if any) is done; queued jobs stay queued if stopped. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private toEvent(job: Job, now: number): RoomEvent {
    switch (job.kind) {
      case 'command':
        return { type: 'command', player_id: job.player_id, command_id: job.command_id, command: job.command, now, entropy: freshEntropy() };
      case 'tick':
        return { type: 'tick', now, entropy: freshEntropy() };
      case 'presence':
        return { type: 'presence', player_id: job.player_id, connected: job.connected, now };
    }
  }

  private async process(job: Job): Promise<void> {
    const now = this.deps.now();
    if (job.kind === 'command' && now - job.at > this.mailbox.maxWaitMs) {
      // Its sender (or the node that forwarded it) stops waiting about now: answer before that
      // with a refusal that is true (it was never processed), rather than apply it unseen.
      this.deps.metrics?.commands.inc({ outcome: 'busy' });
      job.reply({ ok: false, code: 'unavailable', message: 'the room is busy; nothing changed; try again shortly', busy: true });
      return;
    }
    const event = this.toEvent(job, now);
    const { snapshot: next, emitted } = stepRoom(this.snapshot, event);
    const reply =
      job.kind === 'command'
        ? (outcome: Outcome) => {
            job.answered = true;
            job.reply(outcome);
          }
        : () => {};
    const refused = emitted.find((e) => e.type === 'refused');
    if (refused) {
      this.deps.metrics?.commands.inc({ outcome: 'refused' });
      return reply({ ok: false, code: refused.code, message: refused.message });
    }
    const duplicate = emitted.find((e) => e.type === 'duplicate');
    if (duplicate) {
      this.deps.metrics?.commands.inc({ outcome: 'duplicate' });
      return reply({ ok: true, seq: duplicate.seq, duplicate: true });
    }
    const nextGame = emitted.find((e) => e.type === 'next_game');
    if (nextGame) return this.startNextGame(nextGame, now, reply);
    const domain = emitted.flatMap((e) => (e.type === 'domain' ? [e] : []));
    if (domain.length === 0) {
      const presenceChanged = next.context.connected !== this.snapshot.context.connected;
      this.snapshot = next;
      if (job.kind === 'presence') this.deps.setConnected(this.code, job.player_id, job.connected);
      this.armTimer();
      if (presenceChanged) this.pushViews();
      return reply({ ok: true, seq: this.seq, duplicate: false });
    }
    const summary = summaryOf(next.context.game);
    const request: AppendRequest = {
      game_id: this.gameId,
      epoch: this.epoch,
      expected_seq: this.seq,
      events: domain.map((d) => ({
        type: d.event.type,
        player_id: d.event.player_id,
        command_id: d.command_id,
        sender_id: d.command_id ? d.player_id : null,
        command_fp: d.fingerprint,
        data: d.event.data,
      })),
      at: new Date(now),
      summary: this.appendedSummary.trim(summary),
    };
    try {
      await this.deps.append(request);
    } catch (error) {
      this.deps.metrics?.commands.inc({ outcome: 'unavailable' });
      if (error instanceof FencedError) {
        reply({ ok: false, code: 'unavailable', message: 'the room moved to another node; try again' });
        this.stop(`fenced: ${error.message}`);
        return;
      }
      if (error instanceof EventStoreInDoubt) {
        // The events may be in PostgreSQL or not. Adopting the new state would be a guess, and
        // so would taking the next command on the old one: the room takes nothing else until
        // the store says which (settle), and if it cannot, stops here (its lease released) and
        // is activated again from what PostgreSQL holds.
        reply(IN_DOUBT);
        this.log.warn({ err: error.message }, 'append in doubt; the room waits for the store to say whether it is in');
        const settled = await this.settle(request);
        if (settled === 'in') {
          this.log.info('append in doubt: found stored; the room goes on');
          this.committed(job, summary, next, domain, now, () => {});
        } else if (settled === 'out') {
          this.log.info('append in doubt: found not stored; the room goes on as it was');
          if (job.kind === 'tick') this.armTimer();
        } else if (!this.stoppedReason) {
          this.log.warn({ err: error.message, settled }, 'append still in doubt; the room stops and is restored from the store');
          this.stop(settled === 'fenced' ? 'fenced: another node took the game while an append was in doubt' : `in doubt: ${error.message}`);
        }
        return;
      }
      if (error instanceof EventDataRejected) {
        this.log.warn({ ...(job.kind === 'command' ? { player_id: job.player_id } : {}), err: error.message }, 'the store refused a command\'s data; the room stays as it was');
        reply({ ok: false, code: 'bad_request', message: 'that command could not be stored; nothing changed' });
        if (job.kind === 'tick') this.armTimer(RETRY_MS);
        return;
      }
      this.log.warn({ err: (error as Error).message }, 'append failed; the room stays as it was');
      reply({ ok: false, code: 'unavailable', message: 'the game store is unavailable; try again' });
      if (job.kind === 'tick') this.armTimer(RETRY_MS);
      return;
    }
    this.committed(job, summary, next, domain, now, reply);
  }

  /** The append of `next`'s events is stored: adopt, ack, cache, fan out, re-arm. */
  private committed(job: Job, summary: ReturnType<typeof summaryOf>, next: RoomSnapshot, domain: ReadonlyArray<{ event: GameEvent }>, now: number, reply: (outcome: Outcome) => void): void {
    // The sequence moved past the one an append found 'out' expected: that append can never commit.
    this.outAt = null;
    this.appendedSummary.appended(summary);
    this.snapshot = next;
    this.lastActivity = now;
    this.deps.metrics?.commands.inc({ outcome: 'applied' });
    if (job.kind === 'command') this.deps.metrics?.commandMs.observe(now - job.at + (this.deps.now() - now));
    reply({ ok: true, seq: this.seq, duplicate: false });
    this.deps.saveSnapshot(this);
    this.unseatLeavers(domain.map((d) => d.event));
    this.spectators.dropIfClosed();
    this.pushViews();
    this.armTimer();
  }

  /**
   * Waits for the store's word on an append in doubt (see doubt.ts for what the row says):
   * commands meanwhile are refused at once. Before this, every room in doubt stopped and was
   * restored (PostgreSQL restarted at 200 rooms: about 30 a node, 8 at a time, 100–300 ms each).
   */
  private async settle(request: AppendRequest): Promise<Verdict> {
    if (!this.deps.settle) return 'unknown';
    // Commands would wait for as long as the store does: they are answered at once instead
    // (nothing changed; a retry by id, here or wherever the room goes, is safe either way).
    this.settling = true;
    this.refuseQueued(SETTLING, 'commands');
    const row = await this.deps.settle(this.gameId, SETTLE_WAIT_MS).catch(() => null);
    this.settling = false;
    if (this.stoppedReason || !this.acting()) return 'unknown';
    const found = verdict(row, request, this.epoch, this.outAt);
    if (found === 'out') this.outAt = request.expected_seq;
    return found;
  }

  /**
   * The host started a new game at this table: once it is stored and hosted, this room (the
   * finished game) stops here, and its watchers, told to look again, find the new one by code.
   */
  private async startNextGame(next: Extract<RoomEmitted, { type: 'next_game' }>, now: number, reply: (outcome: Outcome) => void): Promise<void> {
    try {
      await this.deps.nextGame(this, next, now);
    } catch (error) {
      this.deps.metrics?.commands.inc({ outcome: 'unavailable' });
      this.log.warn({ err: (error as Error).message, next_game_id: next.game_id }, 'the new game could not be started');
      return reply(error instanceof EventStoreInDoubt ? IN_DOUBT : { ok: false, code: 'unavailable', message: 'the new game could not be stored; try again' });
    }
    this.deps.metrics?.commands.inc({ outcome: 'applied' });
    reply({ ok: true, seq: next.context.game.seq, duplicate: false });
    this.stop(`next game: ${next.game_id} started at this table`);
  }

  /**
   * A player who left (on any of their connections) or was removed by the host stops hearing
   * from the room everywhere: every watcher of that seat, here or on other nodes, is dropped
   * and told, before the views of the change go out.
   */
  private unseatLeavers(events: readonly GameEvent[]): void {
    for (const event of events) {
      if (event.type !== 'player_left') continue;
      const set = this.listeners.get(event.player_id);
      if (!set) continue;
      this.listeners.delete(event.player_id);
      this.enqueue({ kind: 'presence', player_id: event.player_id, connected: false });
      const reason = event.data.removed_by ? 'the host removed you from the room' : 'you left the room (on another connection)';
      for (const listener of set) listener.unseated(reason);
    }
  }

  private transitionWithoutEvents(event: RoomEvent): void {
    const { snapshot, emitted } = stepRoom(this.snapshot, event);
    if (emitted.some((e) => e.type === 'domain')) throw new Error(`${event.type} must not produce domain events`);
    this.snapshot = snapshot;
    this.armTimer();
  }

  private pushViews(): void {
    // A view pushed by a node whose lease lapsed may be older than what the room's new owner
    // has shown: the room stops here instead (its watchers are sent after it).
    if ((this.listeners.size === 0 && this.spectators.size === 0) || !this.acting()) return;
    this.spectators.showCount();
    const views = this.currentViews();
    for (const [playerId, set] of this.listeners) {
      const update = views.for(playerId);
      for (const listener of set) deliver(listener, update);
    }
    // One public frame for every spectator, sent after the players' next command is read.
    if (this.spectators.size > 0) this.spectators.queue(views.for(null));
    // Every watcher's update is built (with its patch): the change before is not needed again.
    views.drop();
  }

  /** Arms the single real timer from the deadline in context (or a retry delay). */
  private armTimer(retryMs?: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retrying = retryMs !== undefined;
    if (this.stoppedReason || this.closing) return;
    const deadline = this.context.deadline;
    if (!deadline && retryMs === undefined) return;
    const delay = retryMs ?? Math.max(0, (deadline as { at: number }).at - this.deps.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retrying = false;
      this.enqueue({ kind: 'tick' });
    }, delay);
  }

  /**
   * The store answers again: a timer-driven move whose append failed is tried now rather than
   * at its retry timer (up to RETRY_MS later). True if it had one to retry.
   */
  retryNow(): boolean {
    if (!this.retrying || !this.timer || this.stoppedReason) return false;
    clearTimeout(this.timer);
    this.timer = null;
    this.retrying = false;
    this.enqueue({ kind: 'tick' });
    return true;
  }

  /** Answers the queued commands with `outcome`, and drops them (`all`: every queued job). */
  private refuseQueued(outcome: Outcome, drop: 'commands' | 'all'): void {
    this.queuedCommands = 0;
    const queued = this.queue.splice(0);
    for (const job of queued) if (job.kind === 'command') job.reply(outcome);
    if (drop === 'commands') this.queue.push(...queued.filter((job) => job.kind !== 'command'));
  }

  /**
   * A hand-over's first step (a drain's wave, handoff.ts): queued commands are told the room is
   * moving (they follow it), and no job is taken or started any more (its timer too: the
   * deadline stays in the context for the adopter); but the job in flight finishes as any other,
   * its views sent to every watcher, here and through peers: it is committed under this node's
   * lease and epoch. `stop` follows once the room is idle. Stopped at once instead, a room
   * dropped its watchers before the views of a move committing at that moment: watchers on
   * other nodes then saw that move only after looking the room up again at its adopter (200 ms
   * more, the tail of the drain's stalls).
   */
  close(): void {
    if (this.closing || this.stoppedReason) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.refuseQueued(MOVING, 'all');
  }

  /**
   * Stops the room on this node at once: no more processing, queued commands are told to
   * retry (they will reach the new owner), watchers are told to re-resolve the room.
   */
  stop(reason: string): void {
    if (this.stoppedReason) return;
    this.stoppedReason = reason;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.refuseQueued(MOVING, 'all');
    // Frames of changes committed before the stop are true: they go out before the move notice.
    this.spectators.settle();
    this.watchedAtStop = this.listeners.size > 0 || this.spectators.size > 0;
    for (const set of this.listeners.values()) for (const listener of set) listener.evicted(reason);
    this.listeners.clear();
    this.spectators.evictAll(reason);
    this.deps.stopped(this, reason);
  }

  /** Gives the lease back (after a final snapshot flush) so that a peer can adopt at once. */
  async releaseLease(): Promise<void> {
    if (this.leaseHandedOver) return;
    await this.lease.release();
  }

  /** The lease goes on to the room of the next game at this table: this one must not release it. */
  handOverLease(): Lease {
    this.leaseHandedOver = true;
    return this.lease;
  }

  get hasDeadline(): boolean {
    return this.context.deadline !== null;
  }

  /** Whether anyone (a seat or a spectator, here or through a peer) watched the room when it stopped. */
  get wasWatched(): boolean {
    return this.watchedAtStop;
  }
}
