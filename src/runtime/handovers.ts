/**
 * How long after a drained node named its rooms' adopters their rooms are left to them: past
 * it, a room nobody adopted is taken on demand again (no room is left behind).
 */
export const HANDOVER_WAIT_MS = 1000;

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

  /** Whether `node`'s rooms are still on their way to their named adopters (see drainedAt). */
  handingOver(node: string, now: number): boolean {
    const at = this.drained.get(node);
    return at !== undefined && now - at < HANDOVER_WAIT_MS;
  }
}
