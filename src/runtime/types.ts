/** What the runtime's parts share: its options, its backends, and the shapes of its answers. */
import type { Timing } from '../../actors/room-machine.js';
import type { GameView } from '../game/view.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Bus } from '../stores/bus.js';
import type { PgEventStore } from '../stores/event-store.js';
import type { Leases } from '../stores/leases.js';
import type { StateCache } from '../stores/state-cache.js';
import type { RestoreSource } from './restore.js';
import type { ErrorCode, MailboxLimits } from './room-actor.js';

export interface RuntimeOptions {
  nodeId: string;
  timing: Timing;
  roomTtlSeconds: number;
  passivateAfterMs: number;
  leaseTtlMs: number;
  /** How often peers are looked at for a crash or a hang (FAILURE_POLL_MS; 0: only by heartbeats). */
  failurePollMs?: number;
  /** Snapshot writes to the cache are batched over this window (0: every event-loop turn). */
  snapshotFlushMs?: number;
  /** Commands one seat may send per second and in a burst (SEAT_RATE_*); unbounded if absent. */
  seatRate?: { perSecond: number; burst: number };
  /** An operator asked this node to drain (a `drain` message on its inbox; see golfctl). */
  onDrainRequest?: (from: string) => void;
  /**
   * Peers took this node for dead while it cannot hear the bus (true), or it hears the bus and
   * is alive to them again (false): see Lifecycle.heartbeat. The gateway sends its players
   * elsewhere and refuses new ones meanwhile.
   */
  onExpelled?: (expelled: boolean) => void;
  /** Transactions of appends in flight at once (PG_COMMIT_SLOTS). */
  commitSlots?: number;
  /** A room's mailbox bounds (ROOM_MAILBOX_MAX; the wait bound is PG_QUERY_TIMEOUT_MS). */
  mailbox?: MailboxLimits;
  /** Spectators of one room at most, over every node (SPECTATORS_PER_ROOM). */
  maxSpectators?: number;
  /**
   * How long a node waits for a room's owner to answer a forwarded request: longer than the
   * owner's usual bound on a command (mailbox wait plus one append), so that a timeout mostly
   * means the owner itself is unreachable; the answer is then "outcome unknown" (remote.ts).
   */
  remoteTimeoutMs?: number;
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
/** A spectator let in: the room's public view now (more follows by watching it). */
export type Spectating = { ok: true; room: string; seq: number; view: GameView };
/**
 * A refusal; `in_doubt`: it may have been applied after all (see Outcome); `moving`: the room's
 * lease is held by another node that is not hosting it yet (it is being taken over), or its node
 * is draining and hands it over: asking again once it is hosted (see Placement.nextChance) finds it.
 */
export type Failure = { ok: false; code: ErrorCode; message: string; in_doubt?: true; moving?: true };

export const fail = (code: ErrorCode, message: string): Failure => ({ ok: false, code, message });

export interface RecoverySummary {
  recovered: number;
  from: Record<RestoreSource, number>;
  skipped: number;
  failed: Array<{ game_id: string; room: string; reason: string }>;
  ms: number;
}

export const emptySummary = (): RecoverySummary => ({ recovered: 0, from: { snapshot: 0, 'snapshot+events': 0, events: 0 }, skipped: 0, failed: [], ms: 0 });

/** What watching a room came to: watched, a game that is over (nothing to watch), or not reachable now. */
export type WatchOutcome = 'watching' | 'ended' | 'unreachable';

/** A node's infrastructure the runtime's parts are built on. */
export interface RuntimeDeps {
  backends: Backends;
  options: RuntimeOptions;
  log: Logger;
  metrics?: Metrics;
  now: () => number;
}
