import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Lease } from '../../src/stores/leases.js';
import { QuorumLeases } from '../../src/stores/quorum-leases.js';
import { redisClients } from '../../src/stores/index.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { freePort, ThrowawayRedis } from '../support/throwaway.js';

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

describe('nodes on a quorum of 3 Redis masters (REDIS_LOCK_URLS)', () => {
  it('rooms play on with one master down and after their owner is killed; with a majority down nothing is written; a majority back, they play again; nothing acknowledged lost or doubled', async () => {
    const locks = await Promise.all([0, 1, 2].map(() => ThrowawayRedis.start()));
    const base = testConfig({ CPU_THINK_MS: '50', ROUND_PAUSE_MS: '300' });
    const env = { CPU_THINK_MS: '50', ROUND_PAUSE_MS: '300', REDIS_LOCK_URLS: locks.map((l) => l.url).join(',') };
    const slots: Array<{ id: string; port: number; node: NodeProcess | null }> = [];
    for (let i = 0; i < 2; i++) slots.push({ id: `${base.REDIS_PREFIX}n${i}`, port: await freePort(), node: null });
    for (const slot of slots) slot.node = await spawnNode(processEnv(base, slot.port, { ...env, NODE_ID: slot.id }));
    let turn = 0;
    const port = () => {
      const alive = slots.filter((s) => s.node);
      return alive[turn++ % alive.length]!.port;
    };
    const shared = new Redis(REDIS_URL);
    const lock = new Redis(locks[2]!.url);
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: base.DATABASE_SCHEMA } });
    const bots: ChaosBot[] = [];
    const codes: string[] = [];
    try {
      for (let r = 0; r < 2; r++) {
        const host = new ChaosBot(port, r, 60);
        const guest = new ChaosBot(port, r + 3, 60);
        await host.connect();
        await guest.connect();
        await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18, initial_flips: 1 } });
        await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
        await host.request({ type: 'start_game' });
        bots.push(host, guest);
        codes.push(host.room);
      }
      const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
      const lastAck = (room: string) => Math.max(0, ...bots.filter((b) => b.room === room).flatMap((b) => [...b.acked.values()].map((a) => a.at)));
      const everyRoomMoves = async (at: number) => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && codes.some((room) => lastAck(room) < at)) await sleep(50);
        return codes.map((room) => lastAck(room) - at);
      };
      // The leases are on the quorum's masters, not on REDIS_URL.
      for (const code of codes) {
        expect(await lock.exists(`${base.REDIS_PREFIX}room:${code}:lease`)).toBe(1);
        expect(await shared.exists(`${base.REDIS_PREFIX}room:${code}:lease`)).toBe(0);
      }
      const report: string[] = [];

      // One master of three down: play goes on.
      locks[0]!.stop();
      let at = Date.now();
      let waits = await everyRoomMoves(at + 500);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      report.push(`one master down: moves ${waits.join(', ')} ms after`);

      // The owner of a room killed: its leases are taken over on the two masters left.
      const owner = await shared.hget(`${base.REDIS_PREFIX}room:${codes[0]}`, 'server_id');
      const victim = slots.find((s) => s.id === owner)!;
      const node = victim.node!;
      victim.node = null;
      at = Date.now();
      node.child.kill('SIGKILL');
      await node.exited;
      waits = await everyRoomMoves(at);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      report.push(`owner killed: rooms moved again after ${waits.join(', ')} ms`);

      // Two of three down: no room may be hosted. Within a lease TTL (1.5 s) every lease is
      // given up; from a margin after that, nothing more reaches PostgreSQL.
      locks[1]!.stop();
      const downAt = Date.now();
      await sleep(Math.max(0, downAt + 2500 - Date.now()));
      const before = (await sql<{ n: number }[]>`select count(*)::int as n from events`)[0]!.n;
      await sleep(2000);
      const after = (await sql<{ n: number }[]>`select count(*)::int as n from events`)[0]!.n;
      expect(after).toBe(before);
      report.push(`majority down: ${after - before} events written from 2.5 s to 4.5 s after`);

      // A master back (empty): a majority again, and every room plays again.
      await locks[1]!.startServer();
      at = Date.now();
      waits = await everyRoomMoves(at);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      report.push(`majority back: rooms moved again after ${waits.join(', ')} ms`);
      clearInterval(nudger);
      for (const b of bots) b.stop();
      process.stdout.write(`leases on a quorum: ${report.join('; ')}\n`);

      const stored = await sql<{ command_id: string; n: number }[]>`select command_id, count(distinct created_at)::int as n from events where command_id is not null group by command_id`;
      const appends = new Map(stored.map((r) => [r.command_id, r.n]));
      const acked = bots.flatMap((b) => [...b.acked].filter(([, a]) => a.type !== 'create_room' && a.type !== 'join_room').map(([id]) => id));
      expect(acked.length).toBeGreaterThan(10);
      expect(acked.filter((id) => !appends.has(id))).toEqual([]);
      expect(acked.filter((id) => appends.get(id)! > 1)).toEqual([]);
    } finally {
      for (const b of bots) b.stop();
      shared.disconnect();
      lock.disconnect();
      await sql.end();
      for (const slot of slots) {
        slot.node?.child.kill('SIGKILL');
        await slot.node?.exited;
      }
      for (const l of locks) l.stop();
      await cleanup(base);
    }
  }, 120_000);
});
