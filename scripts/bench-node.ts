/**
 * Load benchmark: N rooms of 4 bot players against one node, in two modes.
 *   paced:     each bot acts after a think time (default 1 s): the load real tables make;
 *   saturated: no think time: the most the node can take.
 * Prints moves/s, move round trip p50/p99 (command sent -> its ack received), state-cache
 * operation p50/p99 (Redis, measured while the paced load runs), and the single-row insert
 * rate pgbench reaches on the same PostgreSQL in the same run.
 *
 *   npx tsx scripts/bench-node.ts [--rooms 1000] [--mode both|paced|saturated]
 *       [--seconds 30] [--think-ms 1000] [--saturated-rooms 200]
 * Uses DATABASE_URL and REDIS_URL (default: the local servers) with a fresh schema and prefix.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { chooseCpuMove, CPU_PROFILES } from '../src/ai/index.js';
import { simulationRng } from '../src/ai/selfplay.js';
import { RedisStateCache } from '../src/stores/redis-state-cache.js';
import type { GameView } from '../src/game/view.js';
import { spawnNode } from './lib/node-process.js';
import { progress, resultTable, timedProgress } from './lib/report.js';
import { freePort } from '../test/support/throwaway.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '1000' },
    'saturated-rooms': { type: 'string', default: '200' },
    mode: { type: 'string', default: 'both' },
    seconds: { type: 'string', default: '30' },
    'think-ms': { type: 'string', default: '1000' },
    'warmup-seconds': { type: 'string', default: '5' },
    'probe-cache': { type: 'string' },
  },
});
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = Number(values.seconds);
const thinkMs = Number(values['think-ms']);

const ms = (h: RecordableHistogram, p: number) => (h.count === 0 ? NaN : h.percentile(p) / 1000);
const fmt = (n: number) => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1));

class Bot {
  ws!: WebSocket;
  view: GameView | null = null;
  seq = 0;
  inflight: { id: string; sent: bigint } | null = null;
  counter = 0;
  token = '';
  room = '';
  timer: NodeJS.Timeout | null = null;
  stopped = false;
  constructor(
    private readonly url: string,
    private readonly profile: number,
    private readonly think: number,
    private readonly stats: { rtt: RecordableHistogram; acks: number; errors: number },
  ) {}

  open(): Promise<void> {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    this.ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
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
    this.waiters = this.waiters.filter((w) => !w(f));
    if (f.type === 'welcome') {
      this.token = f.token;
      this.room = f.room;
    }
    if (f.type === 'state' || f.type === 'welcome') {
      this.view = f.state;
      this.seq = f.seq;
      this.maybeAct();
    } else if ((f.type === 'ack' || f.type === 'error') && this.inflight && f.id === this.inflight.id) {
      const rtt = Number(process.hrtime.bigint() - this.inflight.sent) / 1000;
      this.inflight = null;
      if (f.type === 'ack') {
        this.stats.acks++;
        this.stats.rtt.record(Math.max(1, Math.round(rtt)));
      } else this.stats.errors++;
    }
  }

  private maybeAct(): void {
    if (this.stopped || this.inflight || this.timer || !this.view?.must) return;
    const act = () => {
      this.timer = null;
      if (this.stopped || this.inflight || !this.view?.must) return;
      const move = chooseCpuMove(this.view, CPU_PROFILES[this.profile % 8]!, simulationRng('bench', this.seq, this.counter));
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

async function runMode(wsUrl: string, rooms: number, think: number, label: string, during?: () => Promise<string[]>): Promise<string[]> {
  const stats = { rtt: createHistogram(), acks: 0, errors: 0 };
  const bots: Bot[] = [];
  // Seat the rooms (a few at a time, so set-up does not count as load).
  const seating = progress(`${label}: seating`, rooms, 'rooms');
  for (let r = 0; r < rooms; r += 50) {
    seating.update(r);
    await Promise.all(
      Array.from({ length: Math.min(50, rooms - r) }, async (_, k) => {
        const seat = Array.from({ length: 4 }, (_, i) => new Bot(wsUrl, r + k + i, think, stats));
        await Promise.all(seat.map((b) => b.open()));
        const [host, ...guests] = seat;
        await host!.request({ type: 'create_room', name: 'Bench', options: { rounds: 18 } });
        for (const g of guests) await g.request({ type: 'join_room', room: host!.room, name: 'Bot' });
        bots.push(...seat);
      }),
    );
  }
  seating.stop();
  const hosts = bots.filter((_, i) => i % 4 === 0);
  // Tables start spread over one think time, as real tables do (not all in the same millisecond).
  const spread = think > 0 ? think : 0;
  await Promise.all(hosts.map((h, i) => new Promise((r) => setTimeout(r, (i * spread) / hosts.length)).then(() => h.request({ type: 'start_game' }))));
  // Warm-up (first moves, JIT): not measured.
  const warming = timedProgress(`${label}: warm-up`, Number(values['warmup-seconds']));
  await new Promise((r) => setTimeout(r, Number(values['warmup-seconds']) * 1000));
  warming();
  stats.rtt.reset();
  stats.acks = 0;
  stats.errors = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  const measuring = timedProgress(`${label}: measuring`, seconds, () => `${(stats.acks / ((performance.now() - started) / 1000)).toFixed(0)} moves/s, ${stats.errors} errors`);
  const extra = during ? await during() : (await new Promise((r) => setTimeout(r, seconds * 1000)), []);
  measuring();
  const elapsed = (performance.now() - started) / 1000;
  const acks = stats.acks;
  const rtt = stats.rtt;
  loop.disable();
  for (const b of bots) b.stop();
  return [
    `${label}: ${rooms} rooms x 4 bots, think ${think} ms, measured ${elapsed.toFixed(1)} s after a ${values['warmup-seconds']} s warm-up`,
    `  persisted moves/s: ${(acks / elapsed).toFixed(0)} (${acks} acks, ${stats.errors} errors)`,
    `  move round trip: p50 ${fmt(ms(rtt, 50))} ms, p99 ${fmt(ms(rtt, 99))} ms, max ${fmt(rtt.max / 1000)} ms`,
    `  event-loop delay of the bots' own process: p99 ${fmt(loop.percentile(99) / 1e6)} ms (it inflates the round trips it measures)`,
    ...extra,
  ];
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

/** The node's own append-transaction latency (its histogram), as a rough p50/p99 from buckets. */
function appendLatency(metrics: string): string {
  const buckets = [...metrics.matchAll(/golf_append_ms_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const);
  const total = buckets.find(([le]) => le === '+Inf')?.[1] ?? 0;
  const at = (q: number) => buckets.find(([, n]) => n >= q * total)?.[0] ?? '?';
  return `  node: append transaction p50 <= ${at(0.5)} ms, p99 <= ${at(0.99)} ms over ${total} transactions (its histogram bucket bounds, whole run)`;
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
  const name = `bench_${randomBytes(3).toString('hex')}`;
  const lines: string[] = [];
  const modes = values.mode === 'both' ? ['paced', 'saturated'] : [values.mode!];
  for (const mode of modes) {
    const port = await freePort();
    const metricsPort = await freePort();
    const node = await spawnNode({
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      // Thousands of bots from 127.0.0.1: the per-address caps are for the public.
      MAX_CONNECTIONS: '100000',
      MAX_CONNECTIONS_PER_IP: '100000',
      SEAT_RATE_PER_SECOND: '100000',
      SEAT_RATE_BURST: '100000',
      ROOM_RATE_PER_MINUTE: '1000000',
      ROOM_RATE_BURST: '100000',
      DATABASE_URL,
      REDIS_URL,
      DATABASE_SCHEMA: `${name}_${mode}`,
      REDIS_PREFIX: `${name}_${mode}:`,
      LOG_LEVEL: 'warn',
      CPU_THINK_MS: '0',
      ROUND_PAUSE_MS: '0',
    });
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    try {
      if (mode === 'paced') {
        const idle = await cacheLatency(5000);
        lines.push(`${idle[0]!.replace('under the paced load', 'idle machine, node up')}`);
        lines.push(...(await runMode(wsUrl, Number(values.rooms), thinkMs, 'paced', async () => {
          const cache = await cacheLatency(seconds * 1000);
          return cache;
        })));
        lines.push(appendLatency(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()));
      } else {
        lines.push(...(await runMode(wsUrl, Number(values['saturated-rooms']), 0, 'saturated')));
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const sum = Number(/golf_append_batch_games_sum ([\d.e+]+)/.exec(metrics)?.[1] ?? NaN);
        const count = Number(/golf_append_batch_games_count ([\d.e+]+)/.exec(metrics)?.[1] ?? NaN);
        lines.push(`  append transactions: ${count}, games per transaction on average: ${(sum / count).toFixed(1)}`);
      }
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop schema if exists ${name}_${mode} cascade`);
    await sql.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${name}_${mode}:*`);
    for (let k = 0; k < keys.length; k += 500) await redis.del(...keys.slice(k, k + 500));
    redis.disconnect();
  }
  lines.push(await pgbenchInsertRate());
  // Each line is "what: figures" (indented under its mode): one table row each.
  const rows = lines.map((line) => {
    const at = line.indexOf(': ');
    return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 2)];
  });
  process.stdout.write(resultTable(['measure', 'value'], rows));
}

await main();
