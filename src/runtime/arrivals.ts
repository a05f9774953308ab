/**
 * How long after a drained node named its rooms' adopters their rooms are left to them: past
 * it, a room nobody adopted is taken on demand again (no room is left behind).
 */
export const HANDOVER_WAIT_MS = 1000;

/**
 * News of rooms hosted anew (adopted from a node that drained or died, or activated on demand),
 * for whatever waits on this node for a room that is moving: a command that follows its room,
 * a resume, a session finding its room again. Each waits for its room's news, or at most its
 * own delay, whichever comes first: the news is best-effort (pub/sub), the delay the fallback.
 * Without it a waiter retried on a timer and, having just missed the adoption, waited out the
 * rest of its step (up to 150 ms of a drain's stall: README, "The drain's stalls").
 */
export class Arrivals {
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Drained peers whose rooms their named adopters are taking, and when they said so. */
  private readonly drained = new Map<string, number>();

  /**
   * `node` drained and named who adopts each of its rooms: for `HANDOVER_WAIT_MS` its rooms
   * are waited for (their news comes from their adopters) rather than taken on demand, one by
   * one, by whichever node a player asks first (that raced the adopters' batches, each room
   * restored with its own round trips, while the drained node's players all reconnected).
   */
  drainedAt(node: string, at: number): void {
    this.drained.set(node, at);
    for (const [id, when] of this.drained) if (at - when > HANDOVER_WAIT_MS) this.drained.delete(id);
  }

  /** Whether `node`'s rooms are still on their way to their named adopters (see drainedAt). */
  handingOver(node: string, now: number): boolean {
    const at = this.drained.get(node);
    return at !== undefined && now - at < HANDOVER_WAIT_MS;
  }

  /** Resolves when `room` is reported hosted somewhere, or after `ms`. */
  wait(room: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(room);
      if (!set) this.waiting.set(room, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        const current = this.waiting.get(room);
        current?.delete(done);
        if (current?.size === 0) this.waiting.delete(room);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      set.add(done);
    });
  }

  /** These rooms are hosted now (by `node`): their waiters go on at once. */
  arrived(rooms: readonly string[]): void {
    for (const room of rooms) for (const done of [...(this.waiting.get(room) ?? [])]) done();
  }

  /** How many waiters there are (for tests). */
  get size(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }
}
