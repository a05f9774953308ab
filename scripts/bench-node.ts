/**
 * Cost per move, side by side: the same bot workload (rooms of 4, the draw-then-place turn
 * flow, closed loop) against a minimal Colyseus 0.18 room (scripts/colyseus: no persistence,
 * `broadcastPatch` after each command) and against this server on the real Redis and
 * PostgreSQL, in one invocation, one scenario after the other:
 *   paced:     each bot acts after a think time (default 1 s): the load real tables make;
 *   saturated: no think time: the most the server can take.
 * For each: moves/s, move round trip p50/p99 (ours: command sent -> its ack; Colyseus has no
 * acks: command sent -> the state change that shows it), server CPU per move split by process
 * (/proc/<pid>/stat: node, Redis, PostgreSQL: this node's backends plus the shared WAL writer,
 * background writer and checkpointer), bytes a player receives per move, RSS per room (the
 * server's RSS after seating, less before, per room), and the ratio ours / Colyseus.
 *
 *   idle:      rooms seated, their games started, and nobody plays: what a room of 4
 *              connected players holds (read after a full GC through the node's inspector).
 *
 *   npx tsx scripts/bench-node.ts [--quick] [--rooms 100,1000] [--mode both|paced|saturated|idle]
 *       [--seconds 20] [--think-ms 1000] [--frames patch|state] [--only ours|colyseus] [--tsx]
 * --quick: 100 rooms saturated, 8 s: a fast look. Our node runs from the production build
 * (compiled to dist/ first, as the image runs it); --tsx runs src/ under tsx instead (whose
 * sources and transform caches then count in its memory). Redis and PostgreSQL are shared with
 * whatever else runs on the machine: their figures are upper bounds on a busy one.
 * Uses DATABASE_URL and REDIS_URL (default: the local servers) with a fresh schema and prefix.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { chooseCpuMove, CPU_PROFILES } from '../src/ai/index.js';
import { simulationRng } from '../src/ai/selfplay.js';
import { RedisStateCache } from '../src/stores/redis-state-cache.js';
import type { GameView } from '../src/game/view.js';
import { ViewSync } from '../web/src/view-sync.js';
import { ROOT, buildServer, spawnNode } from './lib/node-process.js';
import { memoryAfterGc, type Memory } from './lib/inspector.js';
import { cpuMeter, pidsByCommand, rssBytes } from './lib/proc-stat.js';
import { progress, resultTable, timedProgress } from './lib/report.js';
import { freePort } from '../test/support/throwaway.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rooms: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    seconds: { type: 'string' },
    'think-ms': { type: 'string', default: '1000' },
    'warmup-seconds': { type: 'string' },
    frames: { type: 'string', default: 'patch' },
    only: { type: 'string' },
    'cache-latency': { type: 'boolean', default: false },
    'probe-cache': { type: 'string' },
    tsx: { type: 'boolean', default: false },
  },
});
const quick = values.quick!;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = Number(values.seconds ?? (quick ? 8 : 20));
const warmupSeconds = Number(values['warmup-seconds'] ?? (quick ? 3 : 5));
const thinkMs = Number(values['think-ms']);
const roomCounts = (values.rooms ?? (quick ? '100' : '100,1000')).split(',').map(Number);
const modes = quick && values.mode === 'both' ? ['saturated'] : values.mode === 'both' ? ['saturated', 'paced'] : [values.mode!];
const usePatches = values.frames === 'patch';
const COLYSEUS_DIR = path.join(ROOT, 'scripts', 'colyseus');

const ms = (h: RecordableHistogram, p: number) => (h.count === 0 ? NaN : h.percentile(p) / 1000);
const fmt = (n: number) => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1));

interface Stats {
  rtt: RecordableHistogram;
  acks: number;
  errors: number;
  bytes: number;
  /** Bytes the bots' sockets read (frame headers included, compressed when WS_DEFLATE=on). */
  wire: number;
  frames: number;
}

class Bot {
  ws!: WebSocket;
  readonly sync = new ViewSync(true);
  inflight: { id: string; sent: bigint } | null = null;
  counts: Record<string, number> = {};
  counter = 0;
  token = '';
  room = '';
  timer: NodeJS.Timeout | null = null;
  stopped = false;
  constructor(
    private readonly url: string,
    private readonly profile: number,
    private readonly think: number,
    private readonly stats: Stats,
  ) {}

  get view(): GameView | null {
    return this.sync.view as GameView | null;
  }

  open(): Promise<void> {
    this.ws = new WebSocket(this.url);
    let read = 0;
    this.ws.on('message', (data: Buffer) => {
      this.stats.bytes += data.length;
      const now = (this.ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
      this.stats.wire += now - read;
      read = now;
      this.stats.frames++;
      if (process.env.BENCH_DEBUG) {
        const t = /"type":"(\w+)"/.exec(data.toString())![1]!;
        this.counts[t] = (this.counts[t] ?? 0) + 1;
      }
      this.onFrame(JSON.parse(data.toString()));
    });
    this.ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        if (usePatches) this.ws.send(JSON.stringify({ type: 'hello', accept: ['patch'] }));
        resolve();
      });
      this.ws.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    const id = `b${++this.counter}`;
    this.inflight = { id, sent: process.hrtime.bigint() };
    this.ws.send(JSON.stringify({ ...message, id }));
  }

  private waiters: Array<(f: any) => boolean> = [];
  request(message: Record<string, unknown>): Promise<any> {
    return new Promise((resolve) => {
      const id = `s${++this.counter}`;
      this.waiters.push((f) => {
        if ((f.type === 'ack' || f.type === 'error') && f.id === id) {
          resolve(f);
          return true;
        }
        return false;
      });
      this.ws.send(JSON.stringify({ ...message, id }));
    });
  }

  private onFrame(f: any): void {
    if (this.waiters.length > 0) this.waiters = this.waiters.filter((w) => !w(f));
    if (f.type === 'welcome') {
      this.token = f.token;
      this.room = f.room;
    }
    if (f.type === 'state' || f.type === 'welcome' || f.type === 'patch') {
      const taken = this.sync.take(f);
      if (taken.sync) this.ws.send(JSON.stringify({ type: 'sync' }));
      if (taken.frame) this.maybeAct();
    } else if ((f.type === 'ack' || f.type === 'error') && this.inflight && f.id === this.inflight.id) {
      const rtt = Number(process.hrtime.bigint() - this.inflight.sent) / 1000;
      this.inflight = null;
      if (f.type === 'ack') {
        this.stats.acks++;
        this.stats.rtt.record(Math.max(1, Math.round(rtt)));
      } else {
        this.stats.errors++;
        if (process.env.BENCH_DEBUG) process.stderr.write(`${JSON.stringify(f)}\n`);
      }
    }
  }

  private maybeAct(): void {
    if (this.stopped || this.inflight || this.timer || !this.view?.must) return;
    const act = () => {
      this.timer = null;
      if (this.stopped || this.inflight || !this.view?.must) return;
      const move = chooseCpuMove(this.view, CPU_PROFILES[this.profile % 8]!, simulationRng('bench', this.sync.seq, this.counter));
      if (move) this.send(move);
    };
    if (this.think > 0) this.timer = setTimeout(act, this.think * (0.5 + Math.random()));
    else act();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws.close();
  }
}

/** What one run measured (one server, one scenario). */
interface Measured {
  moves: number;
  elapsed: number;
  errors: number;
  rtt: RecordableHistogram;
  bytes: number;
  /** CPU seconds by process group over the measured window. */
  cpu: Record<string, number>;
  rssPerRoom: number;
  notes: string[];
}

/** Seats `rooms` tables of our bots on the node at `wsUrl` and starts their games. */
async function seatOurs(wsUrl: string, rooms: number, think: number, stats: Stats): Promise<Bot[]> {
  const bots: Bot[] = [];
  const seating = progress('ours: seating', rooms, 'rooms');
  for (let r = 0; r < rooms; r += 50) {
    seating.update(r);
    await Promise.all(
      Array.from({ length: Math.min(50, rooms - r) }, async (_, k) => {
        const seat = Array.from({ length: 4 }, (_, i) => new Bot(wsUrl, r + k + i, think, stats));
        await Promise.all(seat.map((b) => b.open()));
        const [host, ...guests] = seat;
        const created = await host!.request({ type: 'create_room', name: 'Bench', options: { rounds: 18 } });
        if (created.type !== 'ack') throw new Error(`create_room refused: ${created.code}: ${created.message}`);
        // Each its own name: a room refuses a name it already seats.
        for (const [i, g] of guests.entries()) {
          const joined = await g.request({ type: 'join_room', room: host!.room, name: `Bot ${i + 1}` });
          if (joined.type !== 'ack') throw new Error(`join_room refused: ${joined.code}: ${joined.message}`);
        }
        bots.push(...seat);
      }),
    );
  }
  seating.stop();
  return bots;
}

/** Warm-up, then the measured window: counters reset after the warm-up, CPU read around the window. */
async function measure(label: string, reset: () => void, count: () => number, meter: () => Promise<{ stop(): Promise<Record<string, number>> }>): Promise<{ elapsed: number; cpu: Record<string, number> }> {
  const warming = timedProgress(`${label}: warm-up`, warmupSeconds);
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  warming();
  reset();
  const cpu = await meter();
  const started = performance.now();
  const measuring = timedProgress(`${label}: measuring`, seconds, () => `${(count() / ((performance.now() - started) / 1000)).toFixed(0)} moves/s`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = await cpu.stop();
  const elapsed = (performance.now() - started) / 1000;
  measuring();
  return { elapsed, cpu: used };
}

const redisPids = () => pidsByCommand('redis-server');
const pgBackgroundPids = () => [...pidsByCommand('postgres: ').filter((pid) => /walwriter|background writer|checkpointer/.test(cmdline(pid)))];

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function runOurs(rooms: number, think: number, mode: string): Promise<Measured> {
  const name = `bench_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const metricsPort = await freePort();
  const inspectPort = await freePort();
  const node = await spawnNode({
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    // Thousands of bots from 127.0.0.1: the per-address caps are for the public.
    MAX_CONNECTIONS: '100000',
    MAX_CONNECTIONS_PER_IP: '100000',
    SEAT_RATE_PER_SECOND: '100000',
    SEAT_RATE_BURST: '100000',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    ROOM_RATE_PER_MINUTE: '1000000',
    ROOM_RATE_BURST: '100000',
    GUESS_LIMIT: '1000000',
    DATABASE_URL,
    REDIS_URL,
    DATABASE_SCHEMA: name,
    REDIS_PREFIX: `${name}:`,
    // Its PostgreSQL backends are told apart by their application name (pg_stat_activity).
    PGAPPNAME: name,
    LOG_LEVEL: 'warn',
    // permessage-deflate, when the bench is run with WS_DEFLATE=on (the bots offer it, as ws does).
    WS_DEFLATE: process.env.WS_DEFLATE ?? 'off',
    CPU_THINK_MS: '0',
    ROUND_PAUSE_MS: '0',
    // The inspector: a full GC before each memory reading (see memoryAfterGc).
  }, 60_000, { built: !values.tsx, nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  const pgPids = async () => [...(await sql<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${name}`).map((r) => r.pid), ...pgBackgroundPids()];
  const stats: Stats = { rtt: createHistogram(), acks: 0, errors: 0, bytes: 0, wire: 0, frames: 0 };
  const notes: string[] = [];
  let bots: Bot[] = [];
  try {
    const rssBefore = rssBytes(node.child.pid!);
    if (mode === 'idle') return await idleOurs(node.child.pid!, inspectPort, `ws://127.0.0.1:${port}/ws`, rooms, stats, (seated) => (bots = seated));
    bots = await seatOurs(`ws://127.0.0.1:${port}/ws`, rooms, think, stats);
    await new Promise((r) => setTimeout(r, 1000));
    const rssPerRoom = (rssBytes(node.child.pid!) - rssBefore) / rooms;
    const hosts = bots.filter((_, i) => i % 4 === 0);
    // Tables start spread over one think time, as real tables do (not all in the same millisecond).
    await Promise.all(hosts.map((h, i) => new Promise((r) => setTimeout(r, (i * think) / hosts.length)).then(() => h.request({ type: 'start_game' }))));
    const extra = values['cache-latency'] && mode === 'paced' ? cacheLatency((warmupSeconds + seconds) * 1000) : null;
    const { elapsed, cpu } = await measure(
      `ours ${mode} ${rooms}`,
      () => {
        stats.rtt.reset();
        stats.acks = 0;
        stats.errors = 0;
        stats.bytes = 0;
        stats.wire = 0;
        stats.frames = 0;
      },
      () => stats.acks,
      () => cpuMeter({ node: () => [node.child.pid!], redis: redisPids, postgres: pgPids }),
    );
    const measured = { moves: stats.acks, errors: stats.errors, rtt: stats.rtt, bytes: stats.bytes };
    notes.push(`frames a player receives per move: ${(stats.frames / Math.max(1, stats.acks) / 4).toFixed(2)} (acks and views)`);
    notes.push(`bytes on the wire per player per move: ${(stats.wire / Math.max(1, stats.acks) / 4).toFixed(0)} (frame headers included; WS_DEFLATE=${process.env.WS_DEFLATE ?? 'off'})`);
    if (process.env.BENCH_DEBUG) notes.push(`debug: ${stats.frames} frames, ${stats.acks} acks, ${bots.length} bots ${bots.map((b) => JSON.stringify(b.counts) + b.sync.seq).join(' ')}`);
    if (extra) notes.push(...(await extra));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const sum = Number(/golf_append_batch_games_sum ([\d.e+]+)/.exec(metrics)?.[1] ?? NaN);
    const count = Number(/golf_append_batch_games_count ([\d.e+]+)/.exec(metrics)?.[1] ?? NaN);
    notes.push(`games per append transaction: ${(sum / count).toFixed(1)} on average (${count} transactions, whole run)`);
    return { ...measured, elapsed, cpu, rssPerRoom, notes };
  } finally {
    for (const b of bots) b.stop();
    node.child.kill('SIGTERM');
    await node.exited;
    await sql.unsafe(`drop schema if exists ${name} cascade`);
    await sql.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${name}:*`);
    for (let k = 0; k < keys.length; k += 500) await redis.del(...keys.slice(k, k + 500));
    redis.disconnect();
  }
}

/**
 * Memory of idle rooms: half the rooms seated, a reading, the other half, another (each after a
 * full GC). The second half's cost per room is the figure: the first rooms also pay one-time
 * costs (compiled code, pools, buffers that grow once).
 */
async function idleOurs(pid: number, inspectPort: number, wsUrl: string, rooms: number, stats: Stats, keep: (bots: Bot[]) => void): Promise<Measured> {
  const settle = () => new Promise((r) => setTimeout(r, 2000));
  // Games started, every player thinking (for ~12 days): a room in play, the first flips awaited.
  const seatAndStart = async (count: number) => {
    const bots = await seatOurs(wsUrl, count, 1e9, stats);
    await Promise.all(bots.filter((_, i) => i % 4 === 0).map((host) => host.request({ type: 'start_game' })));
    return bots;
  };
  const start = await memoryAfterGc(inspectPort);
  const first = await seatAndStart(Math.floor(rooms / 2));
  keep(first);
  await settle();
  const half = await memoryAfterGc(inspectPort);
  const second = await seatAndStart(rooms - first.length / 4);
  keep([...first, ...second]);
  await settle();
  const found = await memoryAfterGc(inspectPort, false);
  const full = await memoryAfterGc(inspectPort);
  const added = rooms - first.length / 4;
  const per = (key: keyof Memory) => `${((full[key] - half[key]) / added / 1024).toFixed(1)}`;
  const rssNow = rssBytes(pid);
  return {
    moves: 0,
    elapsed: 1,
    errors: 0,
    rtt: createHistogram(),
    bytes: 0,
    cpu: {},
    rssPerRoom: (full.rss - half.rss) / added,
    notes: [
      `idle, per room of 4 (the second ${added} rooms, after a full GC, KB): RSS ${per('rss')}, heap used ${per('heapUsed')}, external ${per('external')} (array buffers ${per('arrayBuffers')})`,
      `idle, all ${rooms} rooms over the empty node (KB a room): RSS ${((full.rss - start.rss) / rooms / 1024).toFixed(1)} (${((found.rss - start.rss) / rooms / 1024).toFixed(1)} as found, before the GC: heap ${(found.heapTotal / 2 ** 20).toFixed(0)} MB of which ${(found.heapUsed / 2 ** 20).toFixed(0)} used), heap used ${((full.heapUsed - start.heapUsed) / rooms / 1024).toFixed(1)}`,
      `node totals (MB): empty ${(start.rss / 2 ** 20).toFixed(0)} RSS / ${(start.heapUsed / 2 ** 20).toFixed(1)} heap; seated ${(rssNow / 2 ** 20).toFixed(0)} RSS / ${(full.heapUsed / 2 ** 20).toFixed(1)} heap`,
    ],
  };
}

async function runColyseus(rooms: number, think: number, mode: string): Promise<Measured> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(COLYSEUS_DIR, 'server.ts')], { cwd: COLYSEUS_DIR, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('colyseus ready') && resolve());
    child.once('exit', (code) => reject(new Error(`colyseus exited with ${code}`)));
  });
  // The bots come from the Colyseus folder's own install (its SDK).
  const { startColyseusBots } = (await import(pathToFileURL(path.join(COLYSEUS_DIR, 'bots.ts')).href)) as typeof import('./colyseus/bots.js');
  try {
    const rssBefore = rssBytes(child.pid!);
    const run = await startColyseusBots(port, rooms, think);
    await new Promise((r) => setTimeout(r, 1000));
    const rssPerRoom = (rssBytes(child.pid!) - rssBefore) / rooms;
    try {
      const { elapsed, cpu } = await measure(`colyseus ${mode} ${rooms}`, run.reset, () => run.stats.moves, () => cpuMeter({ node: () => [child.pid!] }));
      return { moves: run.stats.moves, errors: 0, rtt: run.rtt, bytes: run.stats.bytes, elapsed, cpu: { ...cpu, redis: 0, postgres: 0 }, rssPerRoom, notes: [] };
    } finally {
      await run.stop();
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The rows of one scenario: Colyseus, ours, ours / Colyseus. */
function rowsOf(label: string, c: Measured | null, o: Measured | null): string[][] {
  const us = (m: Measured, key?: string) => (m.moves === 0 ? NaN : ((key ? m.cpu[key]! : Object.values(m.cpu).reduce((a, b) => a + b, 0)) * 1e6) / m.moves);
  const figures: Array<[string, (m: Measured) => number, (n: number) => string]> = [
    ['moves/s', (m) => m.moves / m.elapsed, (n) => n.toFixed(0)],
    ['round trip p50 (ms)', (m) => ms(m.rtt, 50), fmt],
    ['round trip p99 (ms)', (m) => ms(m.rtt, 99), fmt],
    ['server CPU per move (µs)', (m) => us(m), (n) => n.toFixed(0)],
    ['  node', (m) => us(m, 'node'), (n) => n.toFixed(0)],
    ['  Redis', (m) => us(m, 'redis'), (n) => n.toFixed(0)],
    ['  PostgreSQL', (m) => us(m, 'postgres'), (n) => n.toFixed(0)],
    ['bytes a player receives per move', (m) => m.bytes / Math.max(1, m.moves) / 4, (n) => n.toFixed(0)],
    ['RSS per room (KB)', (m) => m.rssPerRoom / 1024, (n) => n.toFixed(0)],
  ];
  const rows: string[][] = [[label, '', '', '']];
  for (const [name, get, show] of figures) {
    const cv = c ? get(c) : NaN;
    const ov = o ? get(o) : NaN;
    const ratio = cv > 0 && Number.isFinite(ov) ? `${(ov / cv).toFixed(2)}×` : '';
    rows.push([`  ${name}`, c ? show(cv) : '', o ? show(ov) : '', ratio]);
  }
  for (const note of o?.notes ?? []) rows.push([`  ours: ${note}`, '', '', '']);
  if (o?.errors) rows.push([`  ours: errors`, '', String(o.errors), '']);
  return rows;
}

/**
 * State-cache operation latency, measured in a process of its own (so the bots' event loop
 * does not add its delays) while the node is under the paced load.
 */
async function cacheLatency(durationMs: number): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--probe-cache', String(durationMs)], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim().split('\n'));
    });
  });
}

async function probeCache(durationMs: number): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  const prefix = `bench_cache_${randomBytes(3).toString('hex')}:`;
  const cache = new RedisStateCache(redis, { prefix, ttlSeconds: 600 });
  const ops: Record<string, RecordableHistogram> = {};
  const all = createHistogram();
  const snapshot = { context: { game: { players: Array.from({ length: 4 }, (_, i) => ({ id: `p${i}`, hand: Array(6).fill({ card: { rank: '7', suit: 'clubs', deck: 0 }, face_up: true }) })), deck: Array(28).fill({ rank: 'Q', suit: 'hearts', deck: 0 }) } } };
  const time = async (name: string, op: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await op();
    const us = Number(process.hrtime.bigint() - t) / 1000;
    (ops[name] ??= createHistogram()).record(Math.max(1, Math.round(us)));
    all.record(Math.max(1, Math.round(us)));
  };
  const end = Date.now() + durationMs;
  let i = 0;
  while (Date.now() < end) {
    const code = `R${i % 500}`;
    await time('createRoom', () => cache.createRoom(`${code}${i}`, { game_id: `g${i}`, host_id: 'h', created_at: '', status: 'lobby', server_id: 'n', epoch: 1 }));
    await time('saveSnapshot', () => cache.saveSnapshot(code, `g${i % 500}`, { seq: i, epoch: 1, snapshot }, ['p0', 'p1', 'p2', 'p3']));
    await time('loadSnapshot', () => cache.loadSnapshot(`g${i % 500}`));
    await time('getRoom', () => cache.getRoom(code));
    await time('setConnected', () => cache.setConnected(code, 'p1', i % 2 === 0));
    await time('setPlayerRoom', () => cache.setPlayerRoom(`p${i % 500}`, code));
    i++;
    await new Promise((r) => setTimeout(r, 2));
  }
  const keys = await redis.keys(`${prefix}*`);
  for (let k = 0; k < keys.length; k += 500) await redis.del(...keys.slice(k, k + 500));
  redis.disconnect();
  return [
    `state-cache operations (Redis, under the paced load): p50 ${fmt(ms(all, 50))} ms, p99 ${fmt(ms(all, 99))} ms over ${all.count} ops`,
    ...Object.entries(ops).map(([name, h]) => `    ${name}: p50 ${fmt(ms(h, 50))} ms, p99 ${fmt(ms(h, 99))} ms`),
  ];
}

/** pgbench: single-row inserts (autocommit), 8 clients, on the same PostgreSQL. */
async function pgbenchInsertRate(): Promise<string> {
  const url = new URL(DATABASE_URL);
  const schema = `bench_pg_${randomBytes(3).toString('hex')}`;
  const env = { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username || 'postgres'), PGDATABASE: url.pathname.slice(1) || 'postgres', PGPASSWORD: decodeURIComponent(url.password), PGOPTIONS: `-c search_path=${schema}` };
  execFileSync('psql', ['-q', '-c', `create schema ${schema}; create sequence ${schema}.n; create table ${schema}.events (game_id text, seq bigint, type text, data jsonb, created_at timestamptz default now(), primary key (game_id, seq))`], { env, stdio: 'pipe' });
  const script = `/tmp/${schema}.sql`;
  execFileSync('bash', ['-c', `cat > ${script} <<'SQL'\ninsert into events (game_id, seq, type, data) values (:client_id::text, nextval('n'), 'card_drawn', '{"source":"deck","card":{"rank":"7","suit":"clubs","deck":0}}');\nSQL`]);
  const stop = timedProgress('pgbench', 10);
  // Not synchronous: the progress bar keeps moving meanwhile.
  const out = (await promisify(execFile)('pgbench', ['-n', '-c', '8', '-j', '2', '-T', '10', '-f', script], { env })).stdout;
  stop();
  execFileSync('psql', ['-q', '-c', `drop schema ${schema} cascade`], { env, stdio: 'pipe' });
  const tps = /tps = ([\d.]+)/.exec(out)?.[1];
  return `pgbench single-row inserts (8 clients, 10 s, same PostgreSQL): ${tps ? Number(tps).toFixed(0) : '?'} inserts/s`;
}

async function main() {
  if (values['probe-cache']) {
    process.stdout.write(`${(await probeCache(Number(values['probe-cache']))).join('\n')}\n`);
    return;
  }
  const rows: string[][] = [];
  const failures: string[] = [];
  if (values.only !== 'colyseus' && !values.tsx) buildServer();
  for (const mode of modes) {
    for (const rooms of roomCounts) {
      const think = mode === 'paced' ? thinkMs : 0;
      // A run that fails (a crash, a seating error) leaves its column empty, not the table unprinted.
      const attempt = async (run: () => Promise<Measured>, who: string) => {
        try {
          return await run();
        } catch (error) {
          failures.push(`${mode}, ${rooms} rooms, ${who}: ${(error as Error).message}`);
          return null;
        }
      };
      // Idle: our memory only (Colyseus's RSS per room is in the other modes' rows).
      const c = values.only === 'ours' || mode === 'idle' ? null : await attempt(() => runColyseus(rooms, think, mode), 'Colyseus');
      const o = values.only === 'colyseus' ? null : await attempt(() => runOurs(rooms, think, mode), 'ours');
      rows.push(...rowsOf(`${mode}, ${rooms} rooms x 4${think ? `, think ${think} ms` : ''}`, c, o));
      process.stderr.write(resultTable(['measure', 'Colyseus', 'ours', 'ours / Colyseus'], rows.slice(-(rowsOf('', c, o).length))));
    }
  }
  if (!quick && !modes.every((m) => m === 'idle')) rows.push([await pgbenchInsertRate(), '', '', '']);
  for (const failure of failures) rows.push([`failed: ${failure}`.slice(0, 160), '', '', '']);
  process.stdout.write(`${seconds} s measured after a ${warmupSeconds} s warm-up per run; ours with ${usePatches ? 'patch' : 'state'} frames\n`);
  process.stdout.write(resultTable(['measure', 'Colyseus', 'ours', 'ours / Colyseus'], rows));
}

await main();
