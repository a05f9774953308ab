/**
 * A real server process is killed (SIGKILL) or drained (SIGTERM) with games in every phase;
 * a new process on the same stores brings every game back exactly, players resume with their
 * tokens, and the games play on to the end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';
import type { Config } from '../../src/config.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

const envOf = (config: Config, port: number) =>
  processEnv(config, port, { CPU_THINK_MS: '100', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '600000', LOG_LEVEL: 'info', DRAIN_TIMEOUT_MS: '5000' });

interface Table {
  name: string;
  clients: TestClient[];
  /** Exactly reproducible (only the test's seats act), so views must match after restart. */
  exact: boolean;
  ended?: boolean;
}

const faceUp = (v: Frame) => v.players.map((p: { cards: { face_up: boolean }[] }) => p.cards.filter((c) => c.face_up).length);

async function seat(port: number, humans: number, options: Record<string, unknown>, start = true): Promise<TestClient[]> {
  const host = await TestClient.connect(port);
  await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 2, ...options } });
  const clients = [host];
  for (let i = 1; i < humans; i++) {
    const c = await TestClient.connect(port);
    await c.ok({ type: 'join_room', room: host.room, name: `P${i}` });
    clients.push(c);
  }
  if (start) await host.ok({ type: 'start_game' });
  return clients;
}

async function both(clients: TestClient[], until: (v: Frame) => boolean): Promise<void> {
  await Promise.all(clients.map((c, i) => playUntil(c, until, i)));
}

async function buildTables(port: number): Promise<Table[]> {
  const lobby = await seat(port, 1, {}, false);
  await lobby[0]!.ok({ type: 'add_cpu', profile: 'Sofia' });
  const initialFlip = await seat(port, 2, {});
  const midTurn = await seat(port, 2, { initial_flips: 0 });
  await midTurn[0]!.ok({ type: 'draw', source: 'deck' });
  const finalTurn = await seat(port, 2, { initial_flips: 1 });
  await both(finalTurn, (v) => v.phase === 'final_turn');
  const roundOver = await seat(port, 2, { flip_mode: 'always' });
  await both(roundOver, (v) => v.phase === 'round_over');
  const ended = await seat(port, 2, { rounds: 1, initial_flips: 0 });
  await both(ended, () => false);
  const withCpus = await seat(port, 1, { initial_flips: 0 }, false);
  await withCpus[0]!.ok({ type: 'add_cpu', profile: 'Maya' });
  await withCpus[0]!.ok({ type: 'add_cpu', profile: 'Sage' });
  await withCpus[0]!.ok({ type: 'start_game' });
  await new Promise((r) => setTimeout(r, 300));
  expect(midTurn[0]!.view.must).toBe('place');
  expect(finalTurn[0]!.view.phase).toBe('final_turn');
  expect(roundOver[0]!.view.phase).toBe('round_over');
  expect(ended[0]!.view.phase).toBe('game_over');
  expect(initialFlip[0]!.view.phase).toBe('initial_flip');
  return [
    { name: 'lobby', clients: lobby, exact: true },
    { name: 'initial flip', clients: initialFlip, exact: true },
    { name: 'mid-turn with a drawn card', clients: midTurn, exact: true },
    { name: 'final turn', clients: finalTurn, exact: true },
    { name: 'round over', clients: roundOver, exact: true },
    { name: 'ended', clients: ended, exact: true, ended: true },
    { name: 'CPUs playing', clients: withCpus, exact: false },
  ];
}

/** Sums what a node logged as recovered at start and adopted later, until `count` rooms. */
async function recoveredBy(node: NodeProcess, count: number) {
  const total = { recovered: 0, failed: 0, from: { snapshot: 0, 'snapshot+events': 0, events: 0 } as Record<string, number> };
  for (let i = 0; i < 200; i++) {
    total.recovered = 0;
    total.failed = 0;
    total.from = { snapshot: 0, 'snapshot+events': 0, events: 0 };
    for (const line of node.logs) {
      const entry = JSON.parse(line);
      if (entry.msg !== 'recovery finished' && entry.msg !== 'adopted orphaned rooms') continue;
      total.recovered += entry.recovered ?? entry.adopted;
      total.failed += entry.failed;
      for (const [k, v] of Object.entries(entry.from as Record<string, number>)) total.from[k] = (total.from[k] ?? 0) + v;
    }
    if (total.recovered >= count) return total;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`only ${total.recovered} of ${count} rooms came back: ${node.logs.slice(-5).join('\n')}`);
}

// Presence is per node, and a restored room's timers start again from its restore (the room
// machine re-plans its deadline on `configure`): neither is game state, so neither is compared.
const withoutPresence = (view: Frame) => ({ ...view, next_round_at: view.next_round_at === null ? null : 'a time', players: view.players.map((p: Frame) => ({ ...p, connected: null })) });

async function restartAndCheck(kind: 'SIGKILL' | 'SIGKILL, Redis flushed' | 'SIGKILL, Redis snapshots older than the events' | 'SIGTERM') {
  const config = testConfig();
  configs.push(config);
  const redis = new Redis(REDIS_URL);
  let a: NodeProcess | null = await spawnNode(envOf(config, await freePort()));
  let b: NodeProcess | null = null;
  try {
    let older: Map<string, string> | null = null;
    const tables = await buildTables(a.port);
    if (kind.includes('older')) {
      // Keep today's snapshots, play a few more moves, then put the old ones back after the crash.
      older = new Map();
      for (const key of await redis.keys(`${config.REDIS_PREFIX}game:*`)) older.set(key, (await redis.get(key))!);
      const mid = tables.find((t) => t.name === 'mid-turn with a drawn card')!;
      const start = mid.clients[0]!.seq;
      await both(mid.clients, (v) => mid.clients[0]!.seq >= start + 4 && v.must !== 'place' && v.must !== 'swap' && v.must !== 'flip');
    }
    await new Promise((r) => setTimeout(r, 300)); // let every frame arrive
    const recorded = tables.map((t) => t.clients.map((c) => ({ seq: c.seq, view: c.view, token: c.token })));
    if (kind === 'SIGTERM') {
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      for (const table of tables) {
        for (const c of table.clients) {
          await c.waitFor((f) => f.type === 'reconnect');
          for (let i = 0; i < 100 && !c.closed; i++) await new Promise((r) => setTimeout(r, 20));
          expect(c.closed?.code).toBe(1012);
        }
      }
    } else {
      a.child.kill('SIGKILL');
      await a.exited;
    }
    a = null;
    if (kind.includes('flushed')) {
      const keys = await redis.keys(`${config.REDIS_PREFIX}*`);
      if (keys.length) await redis.del(...keys);
    }
    if (older) for (const [key, value] of older) await redis.set(key, value);
    for (const table of tables) for (const c of table.clients) c.terminate();

    b = await spawnNode(envOf(config, await freePort()));
    // Rooms come back at start, or (while the killed node's leases run out) at the next scans.
    const summary = await recoveredBy(b, 6);
    expect(summary.failed).toBe(0);
    if (kind.includes('flushed')) expect(summary.from.events).toBe(6);
    if (kind.includes('older')) expect(summary.from['snapshot+events']).toBeGreaterThanOrEqual(1);
    if (kind === 'SIGTERM') expect(summary.from.snapshot).toBe(6);

    const resumed: TestClient[][] = [];
    for (const [i, table] of tables.entries()) {
      const again: TestClient[] = [];
      for (const old of recorded[i]!) {
        const c = await TestClient.connect(b.port);
        const reply = await c.request({ type: 'resume', token: old.token });
        if (table.ended && reply.type === 'ack') expect(c.frames.find((f) => f.type === 'welcome')!.state.phase).toBe('game_over');
        expect(reply.type, `${table.name}: resume`).toBe('ack');
        const welcome = c.frames.find((f) => f.type === 'welcome')!;
        if (table.exact) {
          expect(welcome.seq, `${table.name}: same sequence`).toBe(old.seq);
          expect(withoutPresence(welcome.state), `${table.name}: same view`).toEqual(withoutPresence(old.view));
        } else expect(welcome.seq).toBeGreaterThanOrEqual(old.seq);
        expect(welcome.state.you).toBe(old.view.you);
        again.push(c);
      }
      resumed.push(again);
    }
    // Every game plays on to the end (the lobby one is started first).
    await resumed[0]![0]!.ok({ type: 'start_game' });
    await Promise.all(resumed.map((clients) => both(clients, () => false)));
    for (const clients of resumed) for (const c of clients) expect(c.view.phase).toBe('game_over');
    for (const clients of resumed) for (const c of clients) await c.close();
  } finally {
    redis.disconnect();
    a?.child.kill('SIGKILL');
    if (b) {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }
}

describe('a restarted server loses nothing', () => {
  it('after SIGKILL: every game comes back exactly, players resume, games play on to the end', () => restartAndCheck('SIGKILL'), 120_000);
  it('after SIGKILL with Redis flushed in between: games come back from the events alone', () => restartAndCheck('SIGKILL, Redis flushed'), 120_000);
  it('after SIGKILL with Redis snapshots older than the events: snapshot plus later events', () => restartAndCheck('SIGKILL, Redis snapshots older than the events'), 120_000);
  it('after SIGTERM: clients are told to reconnect (1012), the process exits 0, games come back from snapshots', () => restartAndCheck('SIGTERM'), 120_000);
});
