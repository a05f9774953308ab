/**
 * Failover at the default lease settings, with real node processes on the real Redis and
 * PostgreSQL: the node that owns the most rooms is killed (SIGKILL), frozen (SIGSTOP, woken
 * later) or drained (SIGTERM), one after the other, while bots play on and resume by themselves
 * on any node. After each fault every room must accept a move again; at the end every
 * acknowledged move is in PostgreSQL exactly once. The times are printed, not asserted (see
 * scripts/bench-failover.ts for figures).
 */
import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { CPU_PROFILES } from '../../src/ai/index.js';
import { envSchema, type Config } from '../../src/config.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { freePort } from '../support/throwaway.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOMS = 4;

describe('failover at the default settings', () => {
  it('after a SIGKILL, a SIGSTOP and a SIGTERM of the busiest owner, every room plays on and no acknowledged move is lost or doubled', async () => {
    const base = testConfig({ CPU_THINK_MS: '50', ROUND_PAUSE_MS: '300' });
    configs.push(base);
    const defaults = envSchema.parse({});
    // The defaults under test, not processEnv's test TTL.
    const env = { CPU_THINK_MS: '50', ROUND_PAUSE_MS: '300', LEASE_TTL_MS: String(defaults.LEASE_TTL_MS), FAILURE_POLL_MS: String(defaults.FAILURE_POLL_MS) };
    const slots: Array<{ id: string; port: number; node: NodeProcess | null }> = [];
    for (let i = 0; i < 3; i++) slots.push({ id: `${base.REDIS_PREFIX}n${i}`, port: await freePort(), node: null });
    const start = async (i: number) => {
      const slot = slots[i]!;
      slot.node = await spawnNode(processEnv(base, slot.port, { ...env, NODE_ID: slot.id }));
    };
    for (let i = 0; i < slots.length; i++) await start(i);
    let turn = 0;
    // Players connect to the live nodes in turn, so a room's players sit on different nodes.
    const port = () => {
      const alive = slots.filter((s) => s.node);
      return alive[turn++ % alive.length]!.port;
    };
    const redis = new Redis(REDIS_URL);
    const bots: ChaosBot[] = [];
    const codes: string[] = [];
    try {
      for (let r = 0; r < ROOMS; r++) {
        const host = new ChaosBot(port, r, 60);
        const guest = new ChaosBot(port, r + 3, 60);
        await host.connect();
        await guest.connect();
        await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18, initial_flips: 1 } });
        await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
        await host.request({ type: 'add_cpu', profile: CPU_PROFILES[r % 8]!.name });
        await host.request({ type: 'start_game' });
        bots.push(host, guest);
        codes.push(host.room);
      }
      const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
      const lastAck = (room: string) => Math.max(0, ...bots.filter((b) => b.room === room).flatMap((b) => [...b.acked.values()].map((a) => a.at)));
      const busiest = async () => {
        const owners = await Promise.all(codes.map((code) => redis.hget(`${base.REDIS_PREFIX}room:${code}`, 'server_id')));
        const counts = slots.map((s) => owners.filter((o) => o === s.id).length);
        return counts.indexOf(Math.max(...counts));
      };
      /** Waits until every room took a move after `at`; returns each room's wait. */
      const everyRoomMoves = async (at: number) => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && codes.some((room) => lastAck(room) < at)) await sleep(50);
        return codes.map((room) => lastAck(room) - at);
      };
      await sleep(1000);
      const report: string[] = [];
      for (const fault of ['SIGKILL', 'SIGSTOP', 'SIGTERM'] as const) {
        const victim = await busiest();
        const slot = slots[victim]!;
        const node = slot.node!;
        const at = Date.now();
        node.child.kill(fault);
        if (fault === 'SIGSTOP') setTimeout(() => node.child.kill('SIGCONT'), 3000);
        else {
          slot.node = null;
          await node.exited;
        }
        const waits = await everyRoomMoves(at);
        report.push(`${fault}: rooms moved again after ${waits.join(', ')} ms`);
        expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
        if (fault !== 'SIGSTOP') await start(victim);
        else await sleep(Math.max(0, at + 3500 - Date.now()));
      }
      clearInterval(nudger);
      for (const b of bots) b.stop();
      process.stdout.write(`failover at the defaults: ${report.join('; ')}\n`);

      const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: base.DATABASE_SCHEMA } });
      const stored = await sql<{ command_id: string; n: number }[]>`select command_id, count(distinct created_at)::int as n from events where command_id is not null group by command_id`;
      await sql.end();
      const appends = new Map(stored.map((r) => [r.command_id, r.n]));
      const acked = bots.flatMap((b) => [...b.acked].filter(([, a]) => a.type !== 'create_room' && a.type !== 'join_room').map(([id]) => id));
      expect(acked.length).toBeGreaterThan(20);
      expect(acked.filter((id) => !appends.has(id))).toEqual([]);
      expect(acked.filter((id) => appends.get(id)! > 1)).toEqual([]);
    } finally {
      for (const b of bots) b.stop();
      redis.disconnect();
      for (const slot of slots) {
        slot.node?.child.kill('SIGCONT');
        slot.node?.child.kill('SIGKILL');
        await slot.node?.exited;
      }
    }
  }, 120_000);
});
