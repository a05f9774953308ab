import type { NodeState, StateCache } from '../stores/state-cache.js';

/** Entries not looked at for this long are dropped (node ids of long-gone processes). */
const FORGET_AFTER_MS = 10 * 60_000;

/**
 * Which peers this node takes for dead, and so whose rooms it may take.
 *
 * A heartbeat that is missing is not proof: Redis restarted empty (or flushed) drops every
 * heartbeat at once while every node runs on and writes its own again within a third of the
 * TTL. So, for adopting a peer's rooms (all of them at once), a peer is dead only when it
 * announced that it left (drained: its "gone" mark, or its departure on the bus), when Redis
 * told of its heartbeat expiring (a key that expires was not renewed for a whole TTL; a key
 * Redis lost never expires), or when this node has found it without a heartbeat for a whole
 * lease TTL, by this node's own clock and looks, from the first look that found it missing. A
 * node that saw its peers alive a moment ago does not take their rooms the moment Redis forgets
 * them, however long Redis was away.
 *
 * For one room a player asks for, the question is whom to ask: a peer with a heartbeat, or one
 * this node saw alive and whose heartbeat went missing less than a TTL ago (it will write it
 * again). A peer this node never saw alive and that has no heartbeat is not waited for: its
 * room is taken here (its lease and epoch fence it, should it be running after all).
 */
export class Liveness {
  /** When this node first found each peer without a heartbeat (since it last found one). */
  private readonly missingSince = new Map<string, number>();
  /** When this node last found each peer alive. */
  private readonly liveAt = new Map<string, number>();
  /** Peers this node heard were gone (their departure, their heartbeat's expiry), until seen alive again, with when it first heard. */
  private readonly heard = new Map<string, number>();
  /** When each peer was last asked about (for pruning). */
  private readonly askedAt = new Map<string, number>();

  constructor(
    private readonly cache: Pick<StateCache, 'nodeStates'>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** News that a peer is gone (see the class comment): taken for dead until its heartbeat is seen again. */
  heardGone(nodeId: string): void {
    if (!this.heard.has(nodeId)) this.heard.set(nodeId, this.now());
    this.askedAt.set(nodeId, this.now());
  }

  /**
   * Whether this node heard that the peer is gone (see heardGone) or found it marked gone, and
   * has not seen it alive since: its leases may be taken over without waiting for their TTL.
   */
  knownDead(nodeId: string): boolean {
    return this.heard.has(nodeId);
  }

  /** Since when (this clock) the peer is known dead (see knownDead); null if it is not. */
  deadSince(nodeId: string): number | null {
    return this.heard.get(nodeId) ?? null;
  }

  /** The peers among `nodeIds` this node takes for dead now. Throws if the cache cannot be read. */
  async dead(nodeIds: readonly string[]): Promise<Set<string>> {
    const states = await this.look(nodeIds);
    return new Set(nodeIds.filter((id) => this.isDead(id, states.get(id) ?? 'missing')));
  }

  /**
   * Whether to ask `nodeId` for its room rather than take the room here: it is live, or this
   * node saw it alive and has found it missing for less than a TTL (or saw it alive less than
   * a TTL ago). Throws if the cache cannot be read.
   */
  async presumedAlive(nodeId: string): Promise<boolean> {
    const state = (await this.look([nodeId])).get(nodeId) ?? 'missing';
    if (state !== 'missing') return state === 'live';
    if (this.heard.has(nodeId)) return false;
    const liveAt = this.liveAt.get(nodeId);
    if (liveAt === undefined) return false;
    const now = this.now();
    return now - liveAt < this.ttlMs || now - (this.missingSince.get(nodeId) ?? now) < this.ttlMs;
  }

  private async look(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    const states = await this.cache.nodeStates(nodeIds);
    const now = this.now();
    for (const id of nodeIds) {
      this.askedAt.set(id, now);
      const state = states.get(id);
      if (state === 'missing') {
        if (!this.missingSince.has(id)) this.missingSince.set(id, now);
      } else this.missingSince.delete(id);
      if (state === 'live') {
        this.liveAt.set(id, now);
        this.heard.delete(id);
      } else if (state === 'gone' && !this.heard.has(id)) this.heard.set(id, now);
    }
    this.prune(now);
    return states;
  }

  private isDead(nodeId: string, state: NodeState): boolean {
    if (state === 'gone') return true;
    if (state === 'live') return false;
    if (this.heard.has(nodeId)) return true;
    const since = this.missingSince.get(nodeId) ?? this.now();
    return this.now() - since >= this.ttlMs;
  }

  private prune(now: number): void {
    if (this.askedAt.size < 64) return;
    for (const [id, at] of this.askedAt) {
      if (now - at < FORGET_AFTER_MS) continue;
      this.askedAt.delete(id);
      this.missingSince.delete(id);
      this.liveAt.delete(id);
      this.heard.delete(id);
    }
  }
}
