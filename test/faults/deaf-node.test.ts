/**
 * A node whose bus subscription alone breaks (Redis closes that one connection: CLIENT KILL, a
 * pub/sub output-buffer limit, a middlebox resetting it) while its other connections, its event
 * loop and its rooms are healthy. Its peers see its subscription vanish, which is also the sign
 * of a crash: they must not end up with two nodes acting for one room, lose or double an
 * acknowledged move, or leave a room behind; and its players must not stall for long.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { cleanup, DATABASE_URL, processEnv, testConfig } from '../support/node.js';
import { freePort, ThrowawayRedis } from '../support/throwaway.js';

const configs: Config[] = [];
const redises: ThrowawayRedis[] = [];
afterAll(async () => {
  for (const redis of redises) redis.stop();
  for (const config of configs) await cleanup(config);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The local ports of a process's TCP connections to `port` (from `ss`). */
function portsOf(pid: number, port: number): Set<string> {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dport', '=', `:${port}`]).toString();
  const ports = new Set<string>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[2] ?? '';
    ports.add(local.slice(local.lastIndexOf(':') + 1));
  }
  return ports;
}

/** Closes, from Redis's side, the subscribed connections of process `pid`; how many. */
async function killSubscriber(admin: Redis, redisPort: number, pid: number): Promise<number> {
  const mine = portsOf(pid, redisPort);
  const list = (await admin.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    const addrPort = fields.addr?.slice(fields.addr.lastIndexOf(':') + 1);
    if (!addrPort || !mine.has(addrPort)) continue;
    if (Number(fields.sub ?? 0) + Number(fields.psub ?? 0) === 0) continue;
    await admin.client('KILL', 'ID', fields.id!);
    killed++;
  }
  return killed;
}

interface Cluster {
  config: Config;
  redis: ThrowawayRedis;
  admin: Redis;
  nodes: NodeProcess[];
}

async function cluster(count: number, overrides: Record<string, string> = {}): Promise<Cluster> {
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

const logged = (node: NodeProcess, msg: string) =>
  node.logs.filter((line) => {
    try {
      return (JSON.parse(line) as { msg?: string }).msg === msg;
    } catch {
      return false;
    }
  });

/** What PostgreSQL says was acknowledged and not stored, or stored twice (as scripts/chaos.ts checks). */
async function audit(config: Config, bots: ChaosBot[], since = 0): Promise<{ acks: number; lost: number; doubled: number }> {
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
    return { acks, lost, doubled };
  } finally {
    await sql.end();
  }
}

/** Rooms of two bots each, hosted on node 0 (the host creates it there), the guest on another node. */
async function roomsOn(c: Cluster, rooms: number): Promise<ChaosBot[]> {
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
const longestStall = (bot: ChaosBot, from: number, to: number) => {
  const times = [from, ...[...bot.acked.values()].map((a) => a.at).filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
};

describe('a node whose bus subscription alone breaks', () => {
  for (const cutMs of [0, 1000]) {
    it(`${cutMs === 0 ? 'closed once (reconnects at once)' : `held down for ${cutMs} ms`}: one owner per room, nothing lost or doubled, every room plays on`, async () => {
      const c = await cluster(3);
      const victim = c.nodes[0]!;
      const bots = await roomsOn(c, 4);
      const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
      try {
        while (bots.some((b) => b.acked.size < 5)) await sleep(50);
        const at = Date.now();
        let killed = 0;
        do {
          killed += await killSubscriber(c.admin, c.redis.port, victim.child.pid!);
          await sleep(20);
        } while (Date.now() - at < cutMs);
        expect(killed).toBeGreaterThan(0);
        // Every room must take moves again.
        const acksAt = new Map(bots.map((b) => [b, b.acked.size]));
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && bots.some((b) => b.acked.size < acksAt.get(b)! + 4 && b.view?.phase !== 'game_over')) await sleep(100);
        await sleep(1500);
        const end = Date.now();
        const accused = c.nodes.slice(1).flatMap((n) => logged(n, 'peer taken for dead'));
        const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
        process.stdout.write(
          `subscription cut ${cutMs} ms (${killed} kills): taken for dead by ${accused.length} peer(s); players' longest stall ms: ${stalls.join(', ')}; reconnects ${bots.map((b) => b.reconnects).join(',')}, left hung ${bots.map((b) => b.leftHung).join(',')}\n`,
        );
        for (const b of bots) expect(b.acked.size >= acksAt.get(b)! + 4 || b.view?.phase === 'game_over').toBe(true);
        expect(bots.reduce((n, b) => n + b.backwards, 0)).toBe(0);
        // A break of a second: its players back at play within a few (not the 7 s request
        // timeout of an attach whose reply the break swallowed: RemoteRooms.resync).
        expect(stalls[stalls.length - 1]).toBeLessThan(5000);
        const { acks, lost, doubled } = await audit(c.config, bots, at);
        expect(acks).toBeGreaterThan(0);
        expect(lost).toBe(0);
        expect(doubled).toBe(0);
      } finally {
        clearInterval(nudger);
        for (const b of bots) b.stop();
        for (const n of c.nodes) n.child.kill('SIGKILL');
        await Promise.all(c.nodes.map((n) => n.exited));
        c.admin.disconnect();
      }
    }, 90_000);
  }

  // Known, unfixed (it.fails: passes while the bug is there; make it `it` when fixed). A node
  // whose subscriber cannot get back in (here: Redis refuses new connections, its others stay
  // up) is taken for dead and its rooms move, but it keeps its players' sockets and its gateway
  // still answers their `ping`: they neither get views (nothing reaches it over the bus) nor
  // leave it (web/src/liveness.ts takes an answered ping for life). They and their rooms'
  // other players stall for the whole outage (or until DISCONNECT_GRACE_MS stands in for them).
  it.fails('held down for good (its reconnection refused for 8 s): its players leave it and play on elsewhere within seconds', async () => {
    const c = await cluster(3);
    const victim = c.nodes[0]!;
    const bots = await roomsOn(c, 3);
    const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
    try {
      while (bots.some((b) => b.acked.size < 5)) await sleep(50);
      const at = Date.now();
      // No new connection is let in (the node's others stay up), then its subscriber is closed.
      const clients = Number(/connected_clients:(\d+)/.exec(await c.admin.info('clients'))![1]);
      await c.admin.config('SET', 'maxclients', String(clients - 1));
      expect(await killSubscriber(c.admin, c.redis.port, victim.child.pid!)).toBeGreaterThan(0);
      await sleep(8000);
      const end = Date.now();
      await c.admin.config('SET', 'maxclients', '10000');
      const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
      process.stdout.write(`subscriber refused for 8 s: players' longest stall ms: ${stalls.join(', ')}; left hung ${bots.map((b) => b.leftHung).join(',')}\n`);
      expect(stalls[stalls.length - 1]).toBeLessThan(5000);
    } finally {
      clearInterval(nudger);
      for (const b of bots) b.stop();
      for (const n of c.nodes) n.child.kill('SIGKILL');
      await Promise.all(c.nodes.map((n) => n.exited));
      c.admin.disconnect();
    }
  }, 90_000);
});
