import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Ownership of one room by this node. */
export interface Lease {
  readonly key: string;
  /**
   * Whether this node may still act for the room: not released, not reported lost, and not
   * past its expiry by this process's own clock. A process that stalled (a pause, a long GC,
   * SIGSTOP) past its lease may run other work before the renewal notices; whoever acts for
   * the room asks this first.
   */
  held(): boolean;
  /**
   * Called once if the lease could not be renewed in time: stop the room at once. A handler
   * registered after the loss is called too (soon, not synchronously): an actor created while
   * the lease was being lost must still stop.
   */
  onLost(handler: (reason: string) => void): void;
  release(): Promise<void>;
}

export interface Leases {
  /**
   * Takes the room's lease if nobody holds it; null when another node does. With `orphanOf`,
   * also when the node named there holds it: a node known to be dead (its connections closed,
   * or it stopped renewing), whose lease is taken over by compare-and-set rather than waited
   * out. The PostgreSQL epoch the taker claims next fences that node, should it live after all.
   */
  tryAcquire(code: string, orphanOf?: string): Promise<Lease | null>;
  close(): Promise<void>;
}

/** Length of the random part of a lease's value: `<16 hex digits>:<node id>`. */
export const NONCE_HEX = 16;

/**
 * Takes the lease if it is free, or (ARGV[3] not empty) if its value names that node: the
 * compare-and-set of a takeover. KEYS[1] lease; ARGV: value, ttl ms, orphaned node's id or ''.
 */
export const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v == false or (ARGV[3] ~= '' and string.sub(v, ${NONCE_HEX + 2}) == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/**
 * Renews every lease of a node in one call: KEYS the lease keys, ARGV[1] the TTL, ARGV[i+1]
 * the value of KEYS[i]. A lease still ours is extended; one Redis lost (restarted empty,
 * flushed) is written again, since by its holder's clock it is still ours (nobody can have
 * taken it: it would hold another value); one that holds another value was taken over. Returns
 * the indexes (1-based) of those lost.
 */
export const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v == ARGV[i + 1] then redis.call('PEXPIRE', key, ARGV[1])
  elseif v == false then redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
  else lost[#lost + 1] = i end
end
return lost`;

export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Leases renewed per script call (one round trip for all: they are pipelined). */
export const RENEW_CHUNK = 1000;

/** The leases still valid at `now` by this node's clock; the others are lost (with `reason`). */
export function stillValid(held: Iterable<RedisLease>, now: number, reason: string): RedisLease[] {
  const live: RedisLease[] = [];
  for (const lease of held) {
    if (lease.expiresAt <= now) lease.lose(reason);
    else live.push(lease);
  }
  return live;
}

/**
 * Leases on one Redis, renewed in bulk: one timer per node, and at each tick one script over
 * every lease the node holds (so 10,000 rooms cost about what 10 do), every quarter of the TTL.
 * A lease's value names its node (`<nonce>:<node id>`), so that a node that knows a peer dead
 * can take that peer's leases over at once by compare-and-set instead of waiting for their TTL.
 *
 * Each lease's validity is kept by its holder's clock, from the moment a renewal was sent (not
 * answered): a process that stalls stops acting for its rooms when that runs out, whatever it
 * missed; the PostgreSQL epoch fences what it may still try to write.
 */
export class RedisLeases implements Leases, LeaseOwner {
  private readonly held = new Set<RedisLease>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;
  /** Clock drift allowed for, as Redlock does: 1 % of the TTL and 2 ms. */
  private readonly drift: number;
  readonly tickMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; ttlMs: number; nodeId?: string },
  ) {
    this.drift = Math.floor(options.ttlMs * 0.01) + 2;
    this.tickMs = Math.max(50, Math.floor(options.ttlMs / 4));
    this.timer = setInterval(() => void this.renewAll(), this.tickMs);
    this.timer.unref();
    // Back from a break (Redis restarted, maybe empty): renewed (written back) at once, not at
    // the next tick, which may come after they lapsed.
    redis.on('ready', () => void this.renewAll());
  }

  private get nodeId(): string {
    return this.options.nodeId ?? 'anonymous';
  }

  async tryAcquire(code: string, orphanOf?: string): Promise<Lease | null> {
    const key = `${this.options.prefix}room:${code}:lease`;
    const value = `${randomBytes(NONCE_HEX / 2).toString('hex')}:${this.nodeId}`;
    const sentAt = Date.now();
    const taken = await this.redis.eval(ACQUIRE, 1, key, value, String(this.options.ttlMs), orphanOf ?? '');
    if (taken !== 1) return null;
    const lease = new RedisLease(key, value, sentAt + this.options.ttlMs - this.drift, this);
    this.held.add(lease);
    return lease;
  }

  /** One tick: leases past their validity are lost; the others are renewed in one round trip. */
  private async renewAll(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const now = Date.now();
      const live = stillValid(this.held, now, 'lease expired by this node’s clock before it could be renewed');
      if (live.length === 0) return;
      const ttl = String(this.options.ttlMs);
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < live.length; i += RENEW_CHUNK) {
        const chunk = live.slice(i, i + RENEW_CHUNK);
        pipeline.eval(RENEW, chunk.length, ...chunk.map((l) => l.key), ttl, ...chunk.map((l) => l.value));
      }
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await pipeline.exec();
      } catch (error) {
        results = [[error as Error, null]];
      }
      const until = now + this.options.ttlMs - this.drift;
      for (let c = 0; c * RENEW_CHUNK < live.length; c++) {
        const chunk = live.slice(c * RENEW_CHUNK, (c + 1) * RENEW_CHUNK);
        const [error, lost] = results?.[c] ?? [new Error('no reply'), null];
        if (error) {
          // Another try comes next tick; give up on a lease only when that would be too late.
          for (const lease of chunk) if (lease.expiresAt - Date.now() < this.tickMs + 50) lease.lose(`lease renewal failed: ${error.message}`);
          continue;
        }
        const gone = new Set((lost as number[]).map((i) => chunk[i - 1]));
        for (const lease of chunk) {
          if (gone.has(lease)) lease.lose('lease taken over by another node');
          else lease.extend(until);
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
    await this.redis.eval(RELEASE, 1, lease.key, lease.value);
  }

  /** How many leases this node holds (for tests and metrics). */
  get count(): number {
    return this.held.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}

/** What a lease asks of the store that granted it. */
export interface LeaseOwner {
  forget(lease: RedisLease): void;
  drop(lease: RedisLease): Promise<void>;
}

/** A lease on Redis (one server, or a quorum of them), kept valid by its holder's clock. */
export class RedisLease implements Lease {
  private readonly handlers: Array<(reason: string) => void> = [];
  private done = false;
  private lostReason: string | null = null;

  constructor(
    readonly key: string,
    readonly value: string,
    /** Until when the lease is ours, by this process's clock. */
    public expiresAt: number,
    private readonly owner: LeaseOwner,
  ) {}

  held(): boolean {
    return !this.done && Date.now() < this.expiresAt;
  }

  /** @internal A renewal sent at `until - ttl` succeeded. */
  extend(until: number): void {
    if (!this.done && until > this.expiresAt) this.expiresAt = until;
  }

  /** @internal */
  lose(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.owner.forget(this);
    this.lostReason = reason;
    for (const handler of this.handlers.splice(0)) handler(reason);
  }

  onLost(handler: (reason: string) => void): void {
    const reason = this.lostReason;
    if (reason === null) this.handlers.push(handler);
    // Lost already: told on the next microtask, so that the caller (an actor's constructor)
    // is whole when it hears.
    else queueMicrotask(() => handler(reason));
  }

  async release(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.handlers.length = 0;
    await this.owner.drop(this).catch(() => undefined);
  }
}

/** In-process leases for a node running alone: it owns every room. */
export class MemoryLeases implements Leases {
  private readonly held = new Set<string>();

  async tryAcquire(code: string): Promise<Lease | null> {
    if (this.held.has(code)) return null;
    this.held.add(code);
    const held = this.held;
    let released = false;
    return {
      key: code,
      // Alone, a node cannot lose a lease: it holds it until it gives it back.
      held: () => !released,
      onLost: () => {},
      release: async () => {
        released = true;
        held.delete(code);
      },
    };
  }

  async close(): Promise<void> {}
}
