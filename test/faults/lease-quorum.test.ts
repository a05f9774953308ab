import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Lease } from '../../src/stores/leases.js';
import { QuorumLeases } from '../../src/stores/quorum-leases.js';
import { redisClients } from '../../src/stores/index.js';
import { ThrowawayRedis } from '../support/throwaway.js';

const TTL = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let servers: ThrowawayRedis[] = [];
let masters: Redis[] = [];
beforeAll(async () => {
  servers = await Promise.all([0, 1, 2].map(() => ThrowawayRedis.start()));
  // The clients a node uses for leases: no offline queue, so a dead master fails at once.
  masters = servers.map((server) => redisClients(server.url).leases);
  for (const master of masters) master.on('error', () => {});
  await Promise.all(masters.map((master) => master.connect()));
});
afterAll(() => {
  for (const master of masters) master.disconnect();
  for (const server of servers) server.stop();
});

describe('leases on a quorum of 3 Redis masters', () => {
  it('hold with one master killed; with two killed, held leases are lost and none is granted; a majority back, leases again', async () => {
    const a = new QuorumLeases(masters, { prefix: 'q:', ttlMs: TTL, nodeId: 'node-a' });
    const b = new QuorumLeases(masters, { prefix: 'q:', ttlMs: TTL, nodeId: 'node-b' });
    const held = (await Promise.all(Array.from({ length: 50 }, (_, i) => a.tryAcquire(`R${i}`)))) as Lease[];
    expect(held.every((lease) => lease !== null)).toBe(true);
    const lost: string[] = [];
    for (const lease of held) lease.onLost((reason) => lost.push(reason));

    // One of three down: a majority is left; leases are renewed past their TTL, stay exclusive,
    // new ones are granted, and a dead node's lease can still be taken over.
    servers[0]!.stop();
    await sleep(TTL * 2.5);
    expect(lost).toEqual([]);
    expect(held.every((lease) => lease.held())).toBe(true);
    expect(await b.tryAcquire('R3')).toBeNull();
    const fresh = await a.tryAcquire('NEW1');
    expect(fresh).not.toBeNull();
    const takenOver = await b.tryAcquire('R0', 'node-a');
    expect(takenOver).not.toBeNull();
    await sleep(TTL / 2);
    expect(held[0]!.held()).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/taken over/);

    // Two of three down: no majority. Every lease still held is given up by its holder's clock
    // within its TTL (so no room is hosted without a majority), and none is granted: a clean
    // null, not a throw or a hang.
    servers[1]!.stop();
    await sleep(TTL + 200);
    expect(held.every((lease) => !lease.held())).toBe(true);
    expect(fresh!.held()).toBe(false);
    expect(takenOver!.held()).toBe(false);
    expect(lost.filter((reason) => /renewal failed|expired/.test(reason))).toHaveLength(49);
    const askedAt = Date.now();
    expect(await b.tryAcquire('R9')).toBeNull();
    expect(await a.tryAcquire('NEW2')).toBeNull();
    expect(Date.now() - askedAt).toBeLessThan(TTL);

    // A master back (empty): a majority again, and leases are granted again. The one left
    // standing still holds what it granted before (now lapsed by its TTL), so no stale holder
    // stands in the way for long.
    await servers[1]!.startServer();
    let again: Lease | null = null;
    for (let i = 0; i < 40 && !again; i++) {
      again = await b.tryAcquire('R9');
      if (!again) await sleep(100);
    }
    expect(again).not.toBeNull();
    expect(await a.tryAcquire('R9')).toBeNull();
    await again!.release();
    expect(await a.tryAcquire('R9')).not.toBeNull();
    await Promise.all([a.close(), b.close()]);
  });
});
