import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryLeases, RedisLeases, type Leases } from '../../src/stores/leases.js';
import { QuorumLeases } from '../../src/stores/quorum-leases.js';
import { redisClients } from '../../src/stores/index.js';
import { REDIS_URL, uniqueName } from '../support/node.js';
import { ThrowawayRedis } from '../support/throwaway.js';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.disconnect());

// Redlock's quorum: three independent masters (throwaway servers), reached the way a node does.
let servers: ThrowawayRedis[] = [];
let masters: Redis[] = [];
beforeAll(async () => {
  servers = await Promise.all([0, 1, 2].map(() => ThrowawayRedis.start()));
  masters = servers.map((server) => redisClients(server.url).leases);
  for (const master of masters) master.on('error', () => {});
  await Promise.all(masters.map((master) => master.connect()));
});
afterAll(() => {
  for (const master of masters) master.disconnect();
  for (const server of servers) server.stop();
});

const impls: Array<{ name: string; make(prefix?: string, nodeId?: string): Leases }> = [
  {
    name: 'Redis (bulk renewal)',
    make: (prefix = `${uniqueName('lease')}:`, nodeId = 'node-a') => new RedisLeases(redis, { prefix, ttlMs: 1000, nodeId }),
  },
  {
    name: 'Redis quorum (3 masters)',
    make: (prefix = `${uniqueName('lease')}:`, nodeId = 'node-a') => new QuorumLeases(masters, { prefix, ttlMs: 1000, nodeId }),
  },
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

for (const impl of impls.filter((i) => i.name !== 'memory')) {
  describe(`leases taken over from a dead node: ${impl.name}`, () => {
    it('a node known dead has its lease taken by compare-and-set; a live holder other than the one named keeps it', async () => {
      const prefix = `${uniqueName('lease')}:`;
      const a = impl.make(prefix, 'node-a');
      const b = impl.make(prefix, 'node-b');
      const c = impl.make(prefix, 'node-c');
      const lease = await a.tryAcquire('DEAD');
      const lost = new Promise<string>((resolve) => lease!.onLost(resolve));
      // Naming another node (or none) takes nothing; naming the holder takes it over.
      expect(await b.tryAcquire('DEAD', 'node-c')).toBeNull();
      expect(await b.tryAcquire('DEAD')).toBeNull();
      // A node whose id is a prefix of the holder's is not its holder.
      expect(await b.tryAcquire('DEAD', 'node-')).toBeNull();
      const taken = await b.tryAcquire('DEAD', 'node-a');
      expect(taken).not.toBeNull();
      // The old holder, should it live, hears at its next renewal that the lease is gone.
      expect(await lost).toMatch(/taken over/);
      expect(lease!.held()).toBe(false);
      // Only the dead node's lease is taken that way: not b's, naming a.
      expect(await c.tryAcquire('DEAD', 'node-a')).toBeNull();
      // The old holder's release does not free what is now b's.
      await lease!.release();
      expect(await c.tryAcquire('DEAD')).toBeNull();
      await Promise.all([a.close(), b.close(), c.close()]);
    });
  });
}

describe('Redis leases renewed in bulk', () => {
  it('renews hundreds of leases in bulk, and writes back a lease Redis lost while its holder still holds it', async () => {
    const prefix = `${uniqueName('lease')}:`;
    const a = new RedisLeases(redis, { prefix, ttlMs: 800, nodeId: 'node-a' });
    const leases = await Promise.all(Array.from({ length: 300 }, (_, i) => a.tryAcquire(`R${i}`)));
    let lost = 0;
    for (const lease of leases) lease!.onLost(() => lost++);
    // Redis forgets one (restarted empty, flushed): the next renewal writes it back.
    await redis.del(`${prefix}room:R7:lease`);
    await new Promise((r) => setTimeout(r, 1800));
    expect(lost).toBe(0);
    expect(leases.every((l) => l!.held())).toBe(true);
    expect(await redis.exists(`${prefix}room:R7:lease`)).toBe(1);
    const b = new RedisLeases(redis, { prefix, ttlMs: 800, nodeId: 'node-b' });
    expect(await b.tryAcquire('R7')).toBeNull();
    await Promise.all(leases.map((l) => l!.release()));
    await Promise.all([a.close(), b.close()]);
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
