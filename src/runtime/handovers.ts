/**
 * How long after a drained node named its rooms' adopters their rooms are left to them: past
 * it, a room nobody adopted is taken on demand again (no room is left behind).
 */
export const HANDOVER_WAIT_MS = 1000;
/** How long the news that a peer hosts a room is kept (see Handovers.hostedSince). */
const NEWS_KEPT_MS = 5000;

/**
 * Drained peers whose rooms their named adopters are taking (see Peers.adopters). For
 * `HANDOVER_WAIT_MS` after the departure those rooms are waited for (their adopters announce
 * them: Placement.nextChance) rather than taken on demand, one by one, by whichever node a
 * player asks first (that raced the adopters' batches, each room restored with its own round
 * trips, while the drained node's players all reconnected).
 */
export class Handovers {
  /** Drained peers, and when they said so. */
  private readonly drained = new Map<string, number>();

  /** `node` drained and named who adopts each of its rooms. */
  drainedAt(node: string, at: number): void {
    this.drained.set(node, at);
    for (const [id, when] of this.drained) if (at - when > HANDOVER_WAIT_MS) this.drained.delete(id);
  }

  /** Rooms waited for by a draining node's hand-over (see handoff.ts), with who waits. */
  private readonly arriving = new Map<string, Set<(hosted: boolean) => void>>();

  /**
   * True once a peer says it hosts `code` (its `hosted` news), false after `ms`: a draining
   * node learns its handed rooms arrived (or did not, and leaves them to the departure).
   */
  arrival(code: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.arriving.get(code);
      if (!set) this.arriving.set(code, (set = new Set()));
      const waiters = set;
      const done = (hosted: boolean) => {
        if (!waiters.delete(done)) return;
        clearTimeout(timer);
        if (waiters.size === 0 && this.arriving.get(code) === waiters) this.arriving.delete(code);
        resolve(hosted);
      };
      const timer = setTimeout(() => done(false), ms);
      waiters.add(done);
    });
  }

  /** When a peer last said it hosts each room (for a few seconds: see hostedSince). */
  private readonly lastHosted = new Map<string, number>();

  /** A peer says it hosts these rooms now. */
  hostedNews(codes: readonly string[], now = Date.now()): void {
    for (const code of codes) {
      this.lastHosted.delete(code);
      this.lastHosted.set(code, now);
      for (const done of [...(this.arriving.get(code) ?? [])]) done(true);
    }
    // Oldest first (re-set moves a room to the end): kept for NEWS_KEPT_MS.
    for (const [code, at] of this.lastHosted) {
      if (now - at < NEWS_KEPT_MS) break;
      this.lastHosted.delete(code);
    }
  }

  /**
   * Whether a peer said it hosts `code` at or after `since`: a wait for the room that starts
   * after the news came (it came while the attempt before was on its way) need not wait.
   */
  hostedSince(code: string, since: number): boolean {
    return (this.lastHosted.get(code) ?? -Infinity) >= since;
  }

  /** Whether `node`'s rooms are still on their way to their named adopters (see drainedAt). */
  handingOver(node: string, now: number): boolean {
    const at = this.drained.get(node);
    return at !== undefined && now - at < HANDOVER_WAIT_MS;
  }
}
