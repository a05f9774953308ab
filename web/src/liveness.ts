/**
 * Telling a hung node from a quiet one, on the client's side. A node can hang without closing
 * anything (SIGSTOP, a long pause, a partition): its sockets stay open and silent while its
 * rooms move to other nodes, and only the client can notice. Quiet for a while, the client asks
 * (`ping`, answered by the node's gateway alone); nothing at all within PONG_WAIT_MS after it,
 * the node is taken for hung and the client goes elsewhere (reconnect, resume by token).
 * The web client (connection.ts) and the benchmarks' bots (scripts/lib/chaos-bot.ts) share it.
 */

/**
 * During a hole frames come with every move (a CPU's within a second or so), so a quiet 1.2 s
 * is already unusual. Shorter detects a hung node sooner, at a ping (about 30 bytes each way,
 * answered by the gateway alone) for every such quiet spell of every seated client.
 */
export const QUIET_IN_PLAY_MS = 1200;
/** A command of this client's own unanswered (its move, stuck on a hung node): ask soon, an answer normally takes milliseconds. */
export const QUIET_AWAITING_MS = 400;
/** Resting (lobby, between holes, game over) nothing is expected: ask rarely. */
export const QUIET_RESTING_MS = 15_000;
/**
 * The gateway answers a ping without touching a room or a store. Long enough for a node busy
 * restoring a dead peer's rooms (its event loop a few hundred ms late at 200 rooms on 2 cores):
 * a node left wrongly costs its players a reconnect and a resume, nothing else.
 */
export const PONG_WAIT_MS = 600;
/** How often the client looks (the granularity of the waits above). */
export const LIVENESS_TICK_MS = 250;
/** A socket that has not opened by then (a hung node's kernel accepts TCP, nobody answers) is dropped. */
export const OPEN_TIMEOUT_MS = 2500;
/**
 * A socket not open after this long gets another alongside (open-first.ts), the wait growing by
 * half for each next one, up to MAX_TRIES; the load balancer most likely sends each to another
 * node, and the first to open is kept. A healthy node opens a socket in milliseconds; one hung
 * never does, and waiting out OPEN_TIMEOUT_MS, then a backoff, was the tail of the players'
 * stalls in bench-failover (SIGSTOP).
 */
export const ANOTHER_SOCKET_MS = 300;
/**
 * Sockets opened in one try at most (the last about 2.4 s after the first). With a third of the
 * nodes hung, a socket lands there one time in three: measured, 35 % of 386 first sockets.
 */
export const MAX_TRIES = 5;

const RESTING_PHASES: ReadonlySet<string> = new Set(['lobby', 'round_over', 'game_over']);

export class Liveness {
  private lastHeard = 0;
  private pingSentAt: number | null = null;
  private resting = true;
  /** When the room's own timer should send a frame (see phase), if it should. */
  private dueAt: number | null = null;
  /** Since when a command of this client's own has been waiting for its answer (null: none waits). */
  private awaitingSince: number | null = null;

  /** Anything from the node (a frame, an ack, an error) counts as life. */
  heard(now: number): void {
    this.lastHeard = now;
    this.pingSentAt = null;
  }

  /**
   * The phase of the latest view: how quiet the node may be; and when (this client's clock) the
   * room's own timer is due to send the next one, if it has one (the next hole's start): a
   * resting room that will move by itself is expected to, and one silent past that is asked
   * like one in play. Without it, a node hung between holes went unnoticed for 15 s.
   */
  phase(phase: string | undefined, dueAt: number | null = null): void {
    this.resting = phase === undefined || RESTING_PHASES.has(phase);
    this.dueAt = dueAt;
  }

  /** Whether a command this client sent is still unanswered. */
  awaitingAnswer(awaiting: boolean, now: number): void {
    if (!awaiting) this.awaitingSince = null;
    else this.awaitingSince ??= now;
  }

  /** What to do now: ask the node, leave it, or nothing. */
  check(now: number): 'ping' | 'leave' | null {
    if (this.pingSentAt !== null) return now - this.pingSentAt >= PONG_WAIT_MS ? 'leave' : null;
    const quiet = this.awaitingSince !== null ? QUIET_AWAITING_MS : this.resting && this.dueAt === null ? QUIET_RESTING_MS : QUIET_IN_PLAY_MS;
    // A move of its own unanswered is asked about soon whatever the room's timer. A due time is
    // waited for no longer than a resting room's quiet: one far off (this device's clock wrong
    // and not measured) must not silence the asking for good.
    const since =
      this.awaitingSince !== null
        ? Math.max(this.lastHeard, this.awaitingSince)
        : Math.max(this.lastHeard, this.dueAt === null ? 0 : Math.min(this.dueAt, this.lastHeard + QUIET_RESTING_MS));
    if (now - since < quiet) return null;
    this.pingSentAt = now;
    return 'ping';
  }
}
