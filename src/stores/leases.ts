import { ExecutionError, Redlock, type Lock } from '@sesamecare-oss/redlock';
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
  /** Takes the room's lease if nobody holds it; null when another node does. */
  tryAcquire(code: string): Promise<Lease | null>;
  close(): Promise<void>;
}

/**
 * Leases on Redis with the Redlock algorithm (@sesamecare-oss/redlock, one master here).
 * Renewed every third of the TTL; if a renewal fails and the lease's expiry is near, it is
 * reported lost. Redlock alone does not fence a paused node: the PostgreSQL epoch does.
 */
export class RedisLeases implements Leases {
  private readonly redlock: Redlock;

  constructor(
    redis: Redis,
    private readonly options: { prefix: string; ttlMs: number },
  ) {
    this.redlock = new Redlock([redis], { retryCount: 0, automaticExtensionThreshold: 0 });
    // Redlock emits errors for failed attempts on a client; they surface through our results.
    this.redlock.on('error', () => {});
  }

  async tryAcquire(code: string): Promise<Lease | null> {
    const key = `${this.options.prefix}room:${code}:lease`;
    try {
      const lock = await this.redlock.acquire([key], this.options.ttlMs, { retryCount: 0 });
      return new RedisLease(key, lock, this.options.ttlMs);
    } catch (error) {
      if (error instanceof ExecutionError) return null;
      throw error;
    }
  }

  async close(): Promise<void> {}
}

class RedisLease implements Lease {
  private readonly handlers: Array<(reason: string) => void> = [];
  private timer: NodeJS.Timeout | null;
  private done = false;
  private lostReason: string | null = null;
  /**
   * Until when the lease is ours, by this process's clock (Redlock's estimate: the time the
   * request was sent plus the TTL, less the clock drift). Kept here rather than read from the
   * lock: Redlock zeroes the old lock's expiration when an extension succeeds, a moment
   * before the new lock is in hand.
   */
  private expiresAt: number;

  constructor(
    readonly key: string,
    private lock: Lock,
    private readonly ttlMs: number,
  ) {
    this.expiresAt = lock.expiration;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  held(): boolean {
    return !this.done && Date.now() < this.expiresAt;
  }

  private async renew(): Promise<void> {
    if (this.done) return;
    try {
      const lock = await this.lock.extend(this.ttlMs);
      if (this.done) return;
      this.lock = lock;
      this.expiresAt = lock.expiration;
    } catch (error) {
      // Another attempt comes in a third of the TTL; give up only when that would be too late.
      if (this.expiresAt - Date.now() < this.ttlMs / 3 + 50) this.lose(`lease renewal failed: ${(error as Error).message}`);
    }
  }

  private lose(reason: string): void {
    if (this.done) return;
    this.stop();
    this.lostReason = reason;
    for (const handler of this.handlers.splice(0)) handler(reason);
  }

  private stop(): void {
    this.done = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
    this.stop();
    this.handlers.length = 0;
    await this.lock.release().catch(() => undefined);
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
