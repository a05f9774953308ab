/**
 * Spectators' cost to players: one table of 4 bot players on a node process, played twice,
 * without and with N spectators watching (default 200), each time over the same number of moves.
 * Prints, for each run, the players' move round trip (command sent -> its ack) and view
 * latency (command sent -> the mover's own state frame of that change), p50/p99/max, and what
 * the spectators received.
 *
 * The spectators run in a child process of their own (they receive every frame and count it),
 * so their work does not slow the players' measuring loop; the node is a separate process too.
 * All of it shares the machine's cores, so on a small machine the spectators' own socket work
 * is part of what the players feel. With `--peer`, the spectators connect to a second node process, so
 * the room's owner sends each change once over Redis to that node, which fans it out.
 *
 *   npx tsx scripts/bench-spectators.ts [--spectators 200] [--moves 600] [--think-ms 0] [--peer] [--patches]
 * With `--patches` the spectators say `hello` with `accept: ["patch"]` first (as the web client does).
 * Uses DATABASE_URL and REDIS_URL (default: the local servers) with a fresh schema and prefix.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { chooseCpuMove, CPU_PROFILES } from '../src/ai/index.js';
import { simulationRng } from '../src/ai/selfplay.js';
import type { GameView } from '../src/game/view.js';
import { spawnNode, type NodeProcess } from './lib/node-process.js';
import { resultTable } from './lib/report.js';
import { freePort } from '../test/support/throwaway.js';

const { values } = parseArgs({
  options: {
    spectators: { type: 'string', default: '200' },
    moves: { type: 'string', default: '600' },
    'think-ms': { type: 'string', default: '0' },
    peer: { type: 'boolean', default: false },
    patches: { type: 'boolean', default: false },
    // Internal: run as the spectators' child process.
    'spectate-child': { type: 'string' },
  },
});
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

/** The child: N spectators of one room; reports when all watch, and its totals when asked. */
async function spectateChild(arg: string): Promise<void> {
  const [url, room, countText, frameKind] = arg.split(',') as [string, string, string, string];
  const count = Number(countText);
  let frames = 0;
  let bytes = 0;
  let refused = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async () => {
        const ws = await open(url);
        sockets.push(ws);
        await new Promise<void>((resolve) => {
          // Frames are counted, not parsed: a browser would parse them on its own machine, and
          // parsing here would take CPU from the node under test on the same host.
          ws.on('message', (data: Buffer) => {
            const head = data.subarray(0, 24).toString();
            if (head.startsWith('{"type":"state"') || head.startsWith('{"type":"patch"')) {
              frames++;
              bytes += data.length;
            } else if (head.startsWith('{"type":"welcome"')) resolve();
            else if (head.startsWith('{"type":"error"')) {
              refused++;
              resolve();
            }
          });
          if (frameKind === 'patch') ws.send(JSON.stringify({ type: 'hello', accept: ['patch'] }));
          ws.send(JSON.stringify({ type: 'watch', room }));
        });
      }),
    );
  }
  process.send!({ ready: true, refused });
  process.on('message', () => {
    process.send!({ frames, bytes });
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  });
}

class Player {
  view: GameView | null = null;
  room = '';
  private counter = 0;
  private inflight: { id: string; sent: bigint; ackSeq: number | null } | null = null;
  private timer: NodeJS.Timeout | null = null;
  stopped = false;
  private waiters: Array<(f: any) => boolean> = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly profile: number,
    private readonly think: number,
    private readonly stats: { ack: RecordableHistogram; view: RecordableHistogram; moves: number; errors: number; limit: number; done: () => void },
  ) {
    ws.on('message', (data: Buffer) => this.onFrame(JSON.parse(data.toString())));
  }

  request(message: Record<string, unknown>): Promise<any> {
    const id = `r${++this.counter}`;
    return new Promise((resolve) => {
      this.waiters.push((f) => (f.id === id && (f.type === 'ack' || f.type === 'error') ? (resolve(f), true) : false));
      this.ws.send(JSON.stringify({ ...message, id }));
    });
  }

  private onFrame(f: any): void {
    this.waiters = this.waiters.filter((w) => !w(f));
    if (f.type === 'welcome') this.room = f.room;
    const flight = this.inflight;
    if (flight && (f.type === 'ack' || f.type === 'error') && f.id === flight.id) {
      if (f.type === 'error') {
        this.stats.errors++;
        this.inflight = null;
      } else {
        this.stats.ack.record(Math.max(1, Math.round(Number(process.hrtime.bigint() - flight.sent) / 1000)));
        flight.ackSeq = f.seq;
      }
    }
    if (f.type === 'state' || f.type === 'welcome') {
      this.view = f.state;
      if (flight && flight.ackSeq !== null && f.seq >= flight.ackSeq) {
        this.stats.view.record(Math.max(1, Math.round(Number(process.hrtime.bigint() - flight.sent) / 1000)));
        this.inflight = null;
        if (++this.stats.moves >= this.stats.limit) this.stats.done();
      }
      this.maybeAct();
    }
  }

  maybeAct(): void {
    if (this.stopped || this.inflight || this.timer || !this.view?.must) return;
    const act = () => {
      this.timer = null;
      if (this.stopped || this.inflight || !this.view?.must) return;
      const move = chooseCpuMove(this.view, CPU_PROFILES[this.profile % 8]!, simulationRng('bench-spectators', this.profile, this.counter));
      if (!move) return;
      const id = `m${++this.counter}`;
      this.inflight = { id, sent: process.hrtime.bigint(), ackSeq: null };
      this.ws.send(JSON.stringify({ ...move, id }));
    };
    if (this.think > 0) this.timer = setTimeout(act, this.think);
    else setImmediate(act);
  }
}

/** One table played for `moves` moves, with `spectators` watching from `spectatorUrl`. */
async function run(playerUrl: string, spectatorUrl: string, spectators: number, moves: number, think: number): Promise<string[]> {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const stats = { ack: createHistogram(), view: createHistogram(), moves: 0, errors: 0, limit: moves, done };
  const players = await Promise.all([0, 1, 2, 3].map(async (i) => new Player(await open(playerUrl), i, think, stats)));
  const [host, ...guests] = players as [Player, ...Player[]];
  await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18 } });
  for (const [i, g] of guests.entries()) await g.request({ type: 'join_room', room: host.room, name: `P${i + 1}` });
  let child: ReturnType<typeof fork> | null = null;
  if (spectators > 0) {
    child = fork(fileURLToPath(import.meta.url), ['--spectate-child', `${spectatorUrl},${host.room},${spectators},${values.patches ? 'patch' : 'state'}`], { execArgv: ['--import', 'tsx'] });
    const ready = await new Promise<{ refused: number }>((resolve) => child!.once('message', (m) => resolve(m as { refused: number })));
    if (ready.refused > 0) throw new Error(`${ready.refused} spectators were refused`);
    // Until every player's view counts them (the count reaches the views shortly after).
    for (let i = 0; i < 100 && host.view?.spectators !== spectators; i++) await new Promise((r) => setTimeout(r, 100));
  }
  const started = performance.now();
  await host.request({ type: 'start_game' });
  await Promise.race([finished, new Promise((r) => setTimeout(r, 120_000))]);
  const elapsed = (performance.now() - started) / 1000;
  for (const p of players) p.stopped = true;
  let received = { frames: 0, bytes: 0 };
  if (child) {
    child.send('report');
    received = await new Promise((resolve) => child!.once('message', (m) => resolve(m as typeof received)));
  }
  for (const p of players) (p as unknown as { ws: WebSocket }).ws.terminate();
  const ms = (h: RecordableHistogram, p: number) => (h.percentile(p) / 1000).toFixed(2);
  return [
    String(spectators),
    `${stats.moves} in ${elapsed.toFixed(1)} s`,
    `${ms(stats.ack, 50)} / ${ms(stats.ack, 99)} / ${(stats.ack.max / 1000).toFixed(1)}`,
    `${ms(stats.view, 50)} / ${ms(stats.view, 99)} / ${(stats.view.max / 1000).toFixed(1)}`,
    spectators > 0 ? `${received.frames} frames, ${(received.bytes / 1e6).toFixed(1)} MB (${Math.round(received.frames / spectators)} each)` : '-',
    String(stats.errors),
  ];
}

async function main(): Promise<void> {
  const spectators = Number(values.spectators);
  const moves = Number(values.moves);
  const think = Number(values['think-ms']);
  const name = `bench_spec_${randomBytes(4).toString('hex')}`;
  const env = (port: number, id: string) => ({
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL,
    DATABASE_SCHEMA: name,
    REDIS_PREFIX: `${name}:`,
    NODE_ID: `${name}-${id}`,
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    ROUND_PAUSE_MS: '20',
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    SEAT_RATE_PER_SECOND: '100000',
    SEAT_RATE_BURST: '100000',
    MAX_CONNECTIONS_PER_IP: '100000',
    ROOM_RATE_PER_MINUTE: '1000000',
    ROOM_RATE_BURST: '100000',
    GUESS_LIMIT: '100000',
    SPECTATORS_PER_ROOM: String(Math.max(500, spectators)),
  });
  const nodes: NodeProcess[] = [];
  try {
    nodes.push(await spawnNode(env(await freePort(), 'a')));
    if (values.peer) nodes.push(await spawnNode(env(await freePort(), 'b')));
    const playerUrl = `ws://127.0.0.1:${nodes[0]!.port}/ws`;
    const spectatorUrl = `ws://127.0.0.1:${nodes.at(-1)!.port}/ws`;
    // A first table warms the node up (JIT, pools); not reported.
    await run(playerUrl, spectatorUrl, 0, Math.min(200, moves), think);
    const rows = [await run(playerUrl, spectatorUrl, 0, moves, think), await run(playerUrl, spectatorUrl, spectators, moves, think), await run(playerUrl, spectatorUrl, 0, moves, think)];
    console.log(
      `One table, 4 bot players (think ${think} ms), ${moves} moves each run; spectators ${values.peer ? 'on a second node (frames over Redis)' : 'on the same node'}, taking ${values.patches ? 'patches' : 'whole state frames'}; times in ms (p50 / p99 / max)`,
    );
    console.log(resultTable(['spectators', 'moves', 'move → ack', 'move → own view', 'spectators received', 'errors'], rows));
  } finally {
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop schema if exists "${name}" cascade`).catch(() => undefined);
    await sql.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${name}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

if (values['spectate-child']) void spectateChild(values['spectate-child']);
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
