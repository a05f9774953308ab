/**
 * Redis killed and restarted empty under real node processes, with games being played and
 * players reconnecting: no node dies of it (issue 9, finding 10), and afterwards every room is
 * playable again, on exactly one node, and the rooms stay spread over the nodes instead of all
 * landing on the first node that looked (finding 7).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cleanup, processEnv, testConfig } from '../support/node.js';
import { cpuTable, sleep, SteadyPlayer } from '../support/steady-player.js';
import { freePort, ThrowawayRedis } from '../support/throwaway.js';

const configs: Config[] = [];
const redises: ThrowawayRedis[] = [];
const proxies: FaultProxy[] = [];
afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  for (const redis of redises) redis.stop();
  for (const config of configs) await cleanup(config);
});

interface Node {
  proc: NodeProcess;
  metricsPort: number;
}

async function startNodes(count: number, redis: ThrowawayRedis, config: Config, overrides: Record<string, string> = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const metricsPort = await freePort();
    const env = processEnv(config, await freePort(), {
      REDIS_URL: redis.url,
      NODE_ID: `${config.REDIS_PREFIX}n${i}`,
      CPU_THINK_MS: '40',
      ROUND_PAUSE_MS: '100',
      DISCONNECT_GRACE_MS: '600000',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'info',
      ...overrides,
    });
    nodes.push({ proc: await spawnNode(env), metricsPort });
  }
  return nodes;
}

/** Rooms hosted by a node, from its own metrics. */
async function hostedCount(node: Node): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('golf_rooms_active '));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** What a node process wrote about dying: anything not a pino line (Node's own report of an unhandled rejection), or a fatal one. */
const crashLines = (node: Node) =>
  node.proc.logs.filter((line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      return (entry.level ?? 0) >= 60 || /unhandled|uncaught/i.test(entry.msg ?? '');
    } catch {
      return true;
    }
  });

/** The sum of a field over a node's log lines with this message. */
const sumOf = (node: Node, msg: string, field: string) =>
  node.proc.logs.filter((l) => l.includes(`"msg":"${msg}"`)).reduce((sum, l) => sum + Number((JSON.parse(l) as Record<string, unknown>)[field] ?? 0), 0);

async function untilEveryPlayerMoves(players: SteadyPlayer[], after: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (players.every((p) => p.lastAckAt > after || p.over)) return Date.now() - after;
    await sleep(100);
  }
  return -1;
}

describe('Redis restarted empty under running nodes', () => {
  it('no node dies of Redis being killed and restarted, again and again, while rooms play and players reconnect', async () => {
    const redis = await ThrowawayRedis.start();
    redises.push(redis);
    const config = testConfig();
    configs.push(config);
    const nodes = await startNodes(3, redis, config);
    const ports = nodes.map((n) => n.proc.port);
    const players: SteadyPlayer[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const host = await cpuTable(ports[i % 3]!, 2);
        // Each player comes in through the other nodes: a resume there is forwarded to the owner.
        players.push(new SteadyPlayer(() => [ports[(i + 1) % 3]!, ports[(i + 2) % 3]!], host.token, i));
        host.terminate();
      }
      const running = players.map((p) => p.run());
      let churning = true;
      // Players drop and come back all the time, outages or not.
      const churn = (async () => {
        for (let i = 0; churning; i++) {
          players[i % players.length]!.drop();
          await sleep(15);
        }
      })();
      for (let cycle = 0; cycle < 10; cycle++) {
        await sleep(300 + (cycle % 3) * 300);
        redis.stop();
        await sleep(300 + (cycle % 3) * 500);
        await redis.startServer();
      }
      churning = false;
      await churn;
      const upAt = Date.now();
      const recoveredIn = await untilEveryPlayerMoves(players, upAt, 30_000);
      for (const p of players) p.stop();
      await Promise.all(running);
      const alive = nodes.map((n) => n.proc.child.exitCode === null);
      process.stdout.write(
        `redis killed and restarted 10 times under 3 nodes: nodes alive ${alive.join('/')}, every player moving again after ${recoveredIn} ms; ` +
          `acks ${players.map((p) => p.acks).join('/')}\n`,
      );
      for (const node of nodes) expect(crashLines(node), crashLines(node).join('\n')).toEqual([]);
      expect(alive).toEqual([true, true, true]);
      expect(recoveredIn).toBeGreaterThanOrEqual(0);
      // Nobody was told their seat is gone (or anything but "try again") along the way.
      for (const p of players) expect(p.errors).toEqual([]);
    } finally {
      for (const p of players) await p.close();
      for (const node of nodes) node.proc.child.kill('SIGKILL');
      await Promise.all(nodes.map((n) => n.proc.exited));
    }
  }, 90_000);

  it('three nodes: afterwards every room is playable, on exactly one node, and the rooms stay spread', async () => {
    const redis = await ThrowawayRedis.start();
    redises.push(redis);
    const config = testConfig();
    configs.push(config);
    const nodes = await startNodes(3, redis, config);
    const ports = nodes.map((n) => n.proc.port);
    const players: SteadyPlayer[] = [];
    const rooms = 9;
    try {
      for (let i = 0; i < rooms; i++) {
        // Room i lives on node i % 3; its player plays through the other nodes.
        const host = await cpuTable(ports[i % 3]!, 2);
        players.push(new SteadyPlayer(() => [ports[(i + 1) % 3]!, ports[(i + 2) % 3]!], host.token, i));
        host.terminate();
      }
      const before = await Promise.all(nodes.map(hostedCount));
      const running = players.map((p) => p.run());
      await sleep(1500);
      redis.stop();
      const downAt = Date.now();
      for (let i = 0; Date.now() - downAt < 3000; i++) {
        players[i % players.length]!.drop();
        await sleep(300);
      }
      await redis.startServer();
      const upAt = Date.now();
      const recoveredIn = await untilEveryPlayerMoves(players, upAt, 30_000);
      // Let adoption scans and reconciliation settle, then look where the rooms are.
      await sleep(3000);
      const after = await Promise.all(nodes.map((n) => hostedCount(n).catch(() => NaN)));
      const movingAgain = await untilEveryPlayerMoves(players, Date.now(), 20_000);
      for (const p of players) p.stop();
      await Promise.all(running);
      const over = players.filter((p) => p.over).length;
      process.stdout.write(
        `redis restarted empty under 3 nodes: rooms per node before ${before.join('/')}, after ${after.join('/')} (${over} games over); ` +
          `every player moving again after ${recoveredIn} ms; alive ${nodes.map((n) => n.proc.child.exitCode === null).join('/')}; ` +
          `try-agains ${players.map((p) => p.unavailable).join('/')}; backwards ${players.map((p) => p.backwards.length).join('/')}; ` +
          `adopted ${nodes.map((n) => sumOf(n, 'adopted orphaned rooms', 'adopted')).join('/')}, retaken ${nodes.map((n) => sumOf(n, 'reconciled own rooms', 'retaken')).join('/')}\n`,
      );
      if (process.env.FAULT_LOG_DIR) {
        const { writeFileSync } = await import('node:fs');
        for (const [i, node] of nodes.entries()) writeFileSync(`${process.env.FAULT_LOG_DIR}/n${i}.log`, node.proc.logs.join('\n'));
        writeFileSync(`${process.env.FAULT_LOG_DIR}/players.txt`, players.map((p) => `${p.token.slice(0, 4)} ${p.errors.join('; ')}`).join('\n'));
      }
      for (const node of nodes) expect(crashLines(node), crashLines(node).join('\n')).toEqual([]);
      expect(recoveredIn).toBeGreaterThanOrEqual(0);
      expect(movingAgain).toBeGreaterThanOrEqual(0);
      // Each room hosted exactly once (every one is being played, and the counts add up) ...
      expect(after.reduce((a, b) => a + b, 0)).toBe(rooms);
      // ... and no node took the others' rooms: nobody holds more than twice its share.
      expect(Math.max(...after)).toBeLessThanOrEqual((2 * rooms) / 3);
      for (const p of players) expect(p.errors).toEqual([]);
    } finally {
      for (const p of players) await p.close();
      for (const node of nodes) node.proc.child.kill('SIGKILL');
      await Promise.all(nodes.map((n) => n.proc.exited));
    }
  }, 120_000);
});
