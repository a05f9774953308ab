import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryLeases, RedisLeases, type Leases } from '../../src/stores/leases.js';
import { REDIS_URL, uniqueName } from '../support/node.js';
import { ThrowawayRedis } from '../support/throwaway.js';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

const impls: Array<{ name: string; make(): Leases }> = [
  { name: 'Redis (Redlock)', make: () => new RedisLeases(redis, { prefix: `${uniqueName('lease')}:`, ttlMs: 1000 }) },
  { name: 'memory', make: () => new MemoryLeases() },
];

for (const impl of impls) {
  describe(`leases contract: ${impl.name}`, () => {
    it('one holder at a time; released leases can be taken again', async () => {
      const leases = impl.make();
      const first = await leases.tryAcquire('ROOM');
      expect(first).not.toBeNull();
      expect(await leases.tryAcquire('ROOM')).toBeNull();
      expect(await leases.tryAcquire('OTHR')).not.toBeNull();
      await first!.release();
      expect(await leases.tryAcquire('ROOM')).not.toBeNull();
    });

    it('concurrent acquisitions of one room: exactly one wins', async () => {
      const leases = impl.make();
      const results = await Promise.all(Array.from({ length: 20 }, () => leases.tryAcquire('RACE')));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('a held lease says so; a released one does not', async () => {
      const leases = impl.make();
      const lease = await leases.tryAcquire('HELD');
      expect(lease!.held()).toBe(true);
      await lease!.release();
      expect(lease!.held()).toBe(false);
    });

    it('a held lease is renewed past its TTL', async () => {
      const leases = impl.make();
      const lease = await leases.tryAcquire('LONG');
      let lost = false;
      lease!.onLost(() => (lost = true));
      await new Promise((r) => setTimeout(r, 2500));
      expect(lost).toBe(false);
      expect(await leases.tryAcquire('LONG')).toBeNull();
      expect(lease!.held()).toBe(true);
      await lease!.release();
    });
  });
}

describe('Redis leases by their holder\'s own clock', () => {
  it('a lease is no longer held once its TTL has passed on this clock, before any renewal could run (a stalled process)', async () => {
    const leases = new RedisLeases(redis, { prefix: `${uniqueName('lease')}:`, ttlMs: 600 });
    const lease = await leases.tryAcquire('STALL');
    expect(lease!.held()).toBe(true);
    const until = Date.now() + 800;
    while (Date.now() < until) {
      // the event loop is stalled: no renewal runs
    }
    expect(lease!.held()).toBe(false);
    await lease!.release();
  });
});

describe('Redis leases when Redis goes away', () => {
  it('reports the lease lost before its TTL runs out, so the room stops at once', async () => {
    const server = await ThrowawayRedis.start();
    const client = new Redis(server.url, { enableOfflineQueue: false, commandTimeout: 200, maxRetriesPerRequest: 0, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    const leases = new RedisLeases(client, { prefix: 'x:', ttlMs: 1000 });
    const lease = await leases.tryAcquire('GONE');
    const lostAt = new Promise<number>((resolve) => lease!.onLost(() => resolve(Date.now())));
    const pausedAt = Date.now();
    server.pause();
    const at = await lostAt;
    expect(at - pausedAt).toBeLessThan(1000);
    expect(lease!.held()).toBe(false);
    // Whoever listens only after the loss (an actor created meanwhile) is told too.
    const late = await new Promise<string>((resolve, reject) => {
      lease!.onLost(resolve);
      setTimeout(() => reject(new Error('a handler registered after the loss was never called')), 500);
    });
    expect(late).toMatch(/renewal failed/);
    server.resume();
    server.stop();
    client.disconnect();
  });
});
