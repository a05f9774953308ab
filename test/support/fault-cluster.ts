/**
 * A cluster of real node processes on a throwaway Redis (the test's to break) and the shared
 * PostgreSQL (a schema of its own), with rooms of two ChaosBots hosted on node 0, and the checks
 * a fault test makes afterwards: nothing acknowledged lost or stored twice, each player's
 * longest stall.
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, expect } from 'vitest';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { cleanup, DATABASE_URL, processEnv, testConfig } from './node.js';
import { freePort, ThrowawayRedis } from './throwaway.js';

const configs: Config[] = [];
const redises: ThrowawayRedis[] = [];
afterAll(async () => {
  for (const redis of redises) redis.stop();
  for (const config of configs) await cleanup(config);
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Cluster {
  config: Config;
  redis: ThrowawayRedis;
  admin: Redis;
  nodes: NodeProcess[];
}

export async function cluster(count: number, overrides: Record<string, string> = {}): Promise<Cluster> {
  const config = testConfig();
  configs.push(config);
  const redis = await ThrowawayRedis.start();
  redises.push(redis);
  const nodes: NodeProcess[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await spawnNode(
        processEnv(config, await freePort(), {
          REDIS_URL: redis.url,
          NODE_ID: `${config.REDIS_PREFIX}n${i}`,
          LEASE_TTL_MS: '1500',
          CPU_THINK_MS: '40',
          ROUND_PAUSE_MS: '100',
          DISCONNECT_GRACE_MS: '600000',
          LOG_LEVEL: 'info',
          ...overrides,
        }),
      ),
    );
  }
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  return { config, redis, admin, nodes };
}

export const logged = (node: NodeProcess, msg: string) =>
  node.logs.filter((line) => {
    try {
      return (JSON.parse(line) as { msg?: string }).msg === msg;
    } catch {
      return false;
    }
  });

/** What PostgreSQL says was acknowledged and not stored, or stored twice (as scripts/chaos.ts checks). */
export async function audit(config: Config, bots: ChaosBot[], since = 0): Promise<{ acks: number; lost: number; doubled: number; divergent: number }> {
  // Taken before the query: an ack that comes after it is of a move committed after it.
  const acked = bots.map((b) => new Map(b.acked));
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: config.DATABASE_SCHEMA } });
  try {
    const events = await sql<{ game_id: string; seq: number; command_id: string | null; created_at: Date }[]>`select game_id, seq, command_id, created_at from events order by game_id, seq`;
    const stored = new Set(events.map((e) => e.command_id).filter(Boolean));
    const byCommand = new Map<string, Array<(typeof events)[number]>>();
    for (const e of events) if (e.command_id) byCommand.set(`${e.game_id}|${e.command_id}`, [...(byCommand.get(`${e.game_id}|${e.command_id}`) ?? []), e]);
    let acks = 0;
    let lost = 0;
    for (const [k, mine] of acked.entries())
      for (const [id, ack] of mine) {
        if (ack.type === 'create_room' || ack.type === 'join_room') continue;
        acks++;
        if (stored.has(id)) continue;
        lost++;
        const game = events.find((e) => e.command_id && mine.has(e.command_id))?.game_id;
        const around = events.filter((e) => e.game_id === game && Math.abs(e.seq - ack.seq) <= 3).map((e) => `${e.seq}:${e.command_id}@${e.created_at.getTime() - since}`);
        process.stdout.write(`LOST ack ${id} (${ack.type}, seq ${ack.seq}, at +${ack.at - since}) of bot ${k}; its game's events near it: ${around.join(' ')}\n`);
      }
    let doubled = 0;
    for (const list of byCommand.values()) if (new Set(list.map((e) => e.created_at.getTime())).size > 1) doubled++;
    // Two owners acting for one room would show two tables at one sequence.
    const seen = new Map<string, string>();
    let divergent = 0;
    for (const b of bots)
      for (const [key, digest] of b.seen) {
        const other = seen.get(key);
        if (other === undefined) seen.set(key, digest);
        else if (other !== digest) divergent++;
      }
    return { acks, lost, doubled, divergent };
  } finally {
    await sql.end();
  }
}

/** Rooms of two bots each, hosted on node 0 (the host creates it there), the guest on another node. */
export async function roomsOn(c: Cluster, rooms: number): Promise<ChaosBot[]> {
  const bots: ChaosBot[] = [];
  for (let r = 0; r < rooms; r++) {
    let turn = 0;
    const hostPorts = [c.nodes[0]!.port, c.nodes[1]!.port, c.nodes[2]!.port];
    const host = new ChaosBot(() => hostPorts[turn++ % hostPorts.length]!, r, 40);
    const guest = new ChaosBot(() => c.nodes[1 + (r % 2)]!.port, r + 1, 40);
    await host.connect();
    await guest.connect();
    await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18, initial_flips: 0 } });
    await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.request({ type: 'start_game' });
    bots.push(host, guest);
  }
  return bots;
}

/** The longest wait, after `from`, between a bot's answered commands (its stall). */
export const longestStall = (bot: ChaosBot, from: number, to: number) => {
  const times = [from, ...[...bot.acked.values()].map((a) => a.at).filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
};

/**
 * A cluster of 3 with `rooms` rooms of two bots hosted on node 0, the bots playing (nudged every
 * 500 ms: a lost frame, a room that moved) and each past its fifth move when `run` starts; the
 * bots are stopped and every node killed (woken first) after, whatever happened.
 */
export async function whilePlaying(rooms: number, run: (c: Cluster, bots: ChaosBot[]) => Promise<void>): Promise<void> {
  const c = await cluster(3);
  const bots = await roomsOn(c, rooms);
  const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
  try {
    while (bots.some((b) => b.acked.size < 5)) await sleep(50);
    await run(c, bots);
  } finally {
    clearInterval(nudger);
    for (const b of bots) b.stop();
    for (const n of c.nodes) {
      n.child.kill('SIGCONT');
      n.child.kill('SIGKILL');
    }
    await Promise.all(c.nodes.map((n) => n.exited));
    c.admin.disconnect();
  }
}

/**
 * Waits (up to `timeoutMs`) until every bot has taken 4 more moves than now, or its game ended,
 * then 1.5 s more for the tables to settle; returns the rooms of the bots still behind.
 */
export async function untilEveryRoomMoves(bots: ChaosBot[], timeoutMs: number): Promise<string[]> {
  const acksAt = new Map(bots.map((b) => [b, b.acked.size]));
  const behind = () => bots.filter((b) => b.acked.size < acksAt.get(b)! + 4 && b.view?.phase !== 'game_over');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && behind().length > 0) await sleep(100);
  await sleep(1500);
  return behind().map((b) => b.room);
}

/** No view went backwards, and since `since` PostgreSQL holds every acknowledged move once, with no two tables told apart at one sequence. */
export async function expectNothingLost(c: Cluster, bots: ChaosBot[], since: number): Promise<void> {
  expect(bots.reduce((n, b) => n + b.backwards, 0)).toBe(0);
  const { acks, lost, doubled, divergent } = await audit(c.config, bots, since);
  expect(acks).toBeGreaterThan(0);
  expect(lost).toBe(0);
  expect(doubled).toBe(0);
  expect(divergent).toBe(0);
}
