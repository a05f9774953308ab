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

    it('a held lease is renewed past its TTL', async () => {
      const leases = impl.make();
      const lease = await leases.tryAcquire('LONG');
      let lost = false;
      lease!.onLost(() => (lost = true));
      await new Promise((r) => setTimeout(r, 2500));
      expect(lost).toBe(false);
      expect(await leases.tryAcquire('LONG')).toBeNull();
      await lease!.release();
    });
  });
}

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
    server.resume();
    server.stop();
    client.disconnect();
  });
});
