import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ACQUIRE, NONCE_HEX, RELEASE, RENEW, RENEW_CHUNK, RedisLease, stillValid, type Lease, type LeaseOwner, type Leases } from './leases.js';

/** What one master answered for a call: its reply, or why it did not answer in time. */
type Answer<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Leases held on a majority of independent Redis masters, by the Redlock algorithm: a lease is
 * ours only if a majority granted it, and only for its validity (TTL, less the time the asking
 * took, less an allowance for clock drift); a minority grant is given back at once.
 *
 * `@sesamecare-oss/redlock` does the same for one lock at a time; it has no bulk renewal (one
 * round trip per master per tick for all of a node's leases) and no compare-and-set takeover of
 * a dead node's leases, so this runs the single-Redis scripts (leases.ts) on each master:
 *
 * - acquire: ACQUIRE on every master at once; a majority of grants within the validity holds;
 * - renew: RENEW over every held lease on every master, pipelined (one round trip per master);
 *   a lease renewed on a majority is extended from the moment the tick was sent; one that
 *   another node holds on so many masters that no majority is left is lost at once;
 * - takeover: ACQUIRE naming the dead node, on every master, the same majority rule;
 * - release: RELEASE (only our value) on every master.
 *
 * A master that does not answer within a tick counts as a refusal: a paused master cannot hold
 * the others back, and a node that cannot reach a majority loses its leases by its own clock
 * (so no room is hosted without a majority). A master restarted empty is written back by the
 * next renewal, as with one Redis.
 */
export class QuorumLeases implements Leases, LeaseOwner {
  private readonly held = new Set<RedisLease>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;
  private readonly quorum: number;
  private readonly drift: number;
  readonly tickMs: number;

  constructor(
    private readonly masters: readonly Redis[],
    private readonly options: { prefix: string; ttlMs: number; nodeId?: string },
  ) {
    if (masters.length < 3 || masters.length % 2 === 0) throw new Error('a Redis quorum needs an odd number of masters, at least 3');
    this.quorum = Math.floor(masters.length / 2) + 1;
    this.drift = Math.floor(options.ttlMs * 0.01) + 2;
    this.tickMs = Math.max(50, Math.floor(options.ttlMs / 4));
    this.timer = setInterval(() => void this.renewAll(), this.tickMs);
    this.timer.unref();
    // A master back from a break is written back at once, not at the next tick.
    for (const master of masters) master.on('ready', () => void this.renewAll());
  }

  /** Runs `call` on every master, each bounded by a tick (a paused master answers nothing). */
  private async onEach<T>(call: (master: Redis) => Promise<T>): Promise<Array<Answer<T>>> {
    return Promise.all(
      this.masters.map(async (master): Promise<Answer<T>> => {
        let timeout: NodeJS.Timeout | undefined;
        try {
          const late = new Promise<never>((_, reject) => {
            timeout = setTimeout(() => reject(new Error(`no answer within ${this.tickMs} ms`)), this.tickMs);
          });
          return { ok: true, value: await Promise.race([call(master), late]) };
        } catch (error) {
          return { ok: false, error: (error as Error).message };
        } finally {
          clearTimeout(timeout);
        }
      }),
    );
  }

  async tryAcquire(code: string, orphanOf?: string): Promise<Lease | null> {
    const key = `${this.options.prefix}room:${code}:lease`;
    const value = `${randomBytes(NONCE_HEX / 2).toString('hex')}:${this.options.nodeId ?? 'anonymous'}`;
    const sentAt = Date.now();
    const answers = await this.onEach((m) => m.eval(ACQUIRE, 1, key, value, String(this.options.ttlMs), orphanOf ?? ''));
    const granted = answers.filter((a) => a.ok && a.value === 1).length;
    const validUntil = sentAt + this.options.ttlMs - this.drift;
    if (granted >= this.quorum && Date.now() < validUntil) {
      const lease = new RedisLease(key, value, validUntil, this);
      this.held.add(lease);
      return lease;
    }
    // No majority (another node holds it, votes split, masters down): whatever minority was
    // granted is given back, so that it does not stand in anyone's way until its TTL.
    await this.onEach((m) => m.eval(RELEASE, 1, key, value));
    return null;
  }

  /** One tick: leases past their validity are lost; the others renewed on every master at once. */
  private async renewAll(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const now = Date.now();
      const live = stillValid(this.held, now, 'lease expired by this node’s clock before a majority renewed it');
      if (live.length === 0) return;
      const ttl = String(this.options.ttlMs);
      const chunks: RedisLease[][] = [];
      for (let i = 0; i < live.length; i += RENEW_CHUNK) chunks.push(live.slice(i, i + RENEW_CHUNK));
      const answers = await this.onEach(async (master) => {
        const pipeline = master.pipeline();
        for (const chunk of chunks) pipeline.eval(RENEW, chunk.length, ...chunk.map((l) => l.key), ttl, ...chunk.map((l) => l.value));
        const results = (await pipeline.exec()) ?? [];
        // Per lease: renewed here, taken by another node here, or unknown (this chunk failed).
        const outcome = new Map<RedisLease, 'renewed' | 'taken'>();
        chunks.forEach((chunk, c) => {
          const [error, lost] = results[c] ?? [new Error('no reply'), null];
          if (error) return;
          const taken = new Set((lost as number[]).map((i) => chunk[i - 1]));
          for (const lease of chunk) outcome.set(lease, taken.has(lease) ? 'taken' : 'renewed');
        });
        return outcome;
      });
      const until = now + this.options.ttlMs - this.drift;
      const failures = [...new Set(answers.flatMap((a) => (a.ok ? [] : [a.error])))].join('; ');
      for (const lease of live) {
        let renewed = 0;
        let taken = 0;
        for (const answer of answers) {
          const outcome = answer.ok ? answer.value.get(lease) : undefined;
          if (outcome === 'renewed') renewed++;
          else if (outcome === 'taken') taken++;
        }
        if (renewed >= this.quorum) {
          if (Date.now() < until) lease.extend(until);
        } else if (taken > this.masters.length - this.quorum) {
          lease.lose('lease taken over by another node');
        } else if (lease.expiresAt - Date.now() < this.tickMs + 50) {
          // Another try comes next tick; give up only when that would be too late.
          lease.lose(`lease renewal failed: ${renewed} of ${this.masters.length} masters renewed it, ${this.quorum} needed (${failures || 'no majority'})`);
        }
      }
    } finally {
      this.renewing = false;
    }
  }

  /** @internal */
  forget(lease: RedisLease): void {
    this.held.delete(lease);
  }

  /** @internal */
  async drop(lease: RedisLease): Promise<void> {
    this.held.delete(lease);
    await this.onEach((m) => m.eval(RELEASE, 1, lease.key, lease.value));
  }

  /** How many leases this node holds (for tests and metrics). */
  get count(): number {
    return this.held.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}
