/**
 * Chaos run: three node processes behind a proxy, rooms of bots playing through it, while
 * nodes are killed (SIGKILL) or drained (SIGTERM) and restarted at random. At the end every
 * acknowledged move must be in PostgreSQL, every game must have finished, and every game's
 * events must replay to its final state.
 *
 *   npx tsx scripts/chaos.ts [--rooms 30] [--seconds 60] [--every-ms 4000] [--rounds 9] [--seed 1]
 * Uses DATABASE_URL and REDIS_URL (default: the local servers) with a fresh schema and prefix.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { chooseCpuMove, CPU_PROFILES } from '../src/ai/index.js';
import { simulationRng } from '../src/ai/selfplay.js';
import { replay, type GameEvent } from '../src/game/index.js';
import type { GameView } from '../src/game/view.js';
import { spawnNode, type NodeProcess } from './lib/node-process.js';
import { frontProxy } from './lib/proxy.js';
import { freePort } from '../test/support/throwaway.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '60' },
    'every-ms': { type: 'string', default: '4000' },
    seed: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '9' },
  },
});
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = `chaos_${randomBytes(3).toString('hex')}`;
const rng = simulationRng('chaos', Number(values.seed));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A player that keeps playing through disconnects: it resumes and re-sends unacked moves by id. */
class Bot {
  ws: WebSocket | null = null;
  view: GameView | null = null;
  token = '';
  room = '';
  seq = 0;
  acked = new Map<string, number>();
  private inflight: { id: string; text: string } | null = null;
  private counter = 0;
  private readonly prefix = randomBytes(3).toString('hex');
  reconnects = 0;
  done = false;
  private resumeId: string | null = null;

  constructor(
    private readonly port: () => number,
    private readonly profile: number,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port()}/ws`);
      this.ws = ws;
      ws.on('open', () => {
        if (this.token) {
          this.resumeId = `${this.prefix}-r${++this.counter}`;
          ws.send(JSON.stringify({ type: 'resume', token: this.token, id: this.resumeId }));
        }
        if (this.inflight) ws.send(this.inflight.text);
        resolve();
      });
      ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
      ws.on('close', () => {
        if (this.ws !== ws || this.done) return;
        this.reconnects++;
        setTimeout(() => void this.connect(), 100 + Math.random() * 400);
      });
      ws.on('error', () => {});
    });
  }

  send(message: Record<string, unknown>): string {
    const id = `${this.prefix}-${++this.counter}`;
    const text = JSON.stringify({ ...message, id });
    this.inflight = { id, text };
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
    return id;
  }

  private waiters: Array<(f: any) => boolean> = [];
  request(message: Record<string, unknown>): Promise<any> {
    return new Promise((resolve) => {
      const id = this.send(message);
      this.waiters.push((f) => (f.id === id && (f.type === 'ack' || f.type === 'error') ? (resolve(f), true) : false));
    });
  }

  private onFrame(f: any): void {
    this.waiters = this.waiters.filter((w) => !w(f));
    if (f.type === 'welcome') {
      this.token = f.token;
      this.room = f.room;
    }
    if (f.type === 'reconnect' || (f.type === 'error' && f.id === this.resumeId)) {
      // Told to go, or the seat could not be resumed yet (the room is moving): connect again.
      this.ws?.close();
      return;
    }
    if (f.type === 'ack' && this.inflight && f.id === this.inflight.id) {
      this.acked.set(f.id, f.seq);
      this.inflight = null;
    }
    if (f.type === 'error' && this.inflight && f.id === this.inflight.id) {
      // Refused for a reason (the game moved on), or unavailable: look at the next state, or retry.
      if (f.code === 'unavailable' || f.code === 'rate_limited') {
        const pending = this.inflight;
        setTimeout(() => {
          if (this.inflight === pending && this.ws?.readyState === WebSocket.OPEN) this.ws.send(pending.text);
        }, 300);
        return;
      }
      this.inflight = null;
    }
    if (f.type === 'state' || f.type === 'welcome') {
      this.view = f.state;
      this.seq = f.seq;
    }
    this.act();
  }

  private act(): void {
    if (this.inflight || !this.view?.must) return;
    const move = chooseCpuMove(this.view, CPU_PROFILES[this.profile % 8]!, simulationRng('chaos-bot', this.seq, this.counter));
    if (move) this.send(move);
  }

  /** Plays on by itself; also nudges after a quiet spell (a lost frame, a moved room). */
  tick(): void {
    if (this.inflight && this.ws?.readyState === WebSocket.OPEN) this.ws.send(this.inflight.text);
    else this.act();
  }
}

async function main() {
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes: Array<NodeProcess | null> = [null, null, null];
  const env = (i: number) => ({
    PORT: String(ports[i]), DATABASE_URL, REDIS_URL, DATABASE_SCHEMA: name, REDIS_PREFIX: `${name}:`,
    LEASE_TTL_MS: '1500', CPU_THINK_MS: '20', ROUND_PAUSE_MS: '200', DISCONNECT_GRACE_MS: '3000',
    RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000', LOG_LEVEL: 'warn', DRAIN_TIMEOUT_MS: '3000',
    // Every bot comes from 127.0.0.1 through the proxy; three nodes on one host need three metrics ports.
    MAX_CONNECTIONS_PER_IP: '100000', ROOM_RATE_PER_MINUTE: '1000000', ROOM_RATE_BURST: '100000', METRICS_PORT: '0',
  });
  for (let i = 0; i < 3; i++) nodes[i] = await spawnNode(env(i));
  let turn = 0;
  // New connections are spread over the live nodes, so a room's players sit on different nodes.
  const proxy = await frontProxy(() => {
    const alive = ports.filter((_, i) => nodes[i] !== null);
    turn++;
    return alive.map((_, k) => alive[(k + turn) % alive.length]!);
  });
  const rooms = Number(values.rooms);
  const bots: Bot[] = [];
  for (let r = 0; r < rooms; r++) {
    const host = new Bot(() => proxy.port, r);
    const guest = new Bot(() => proxy.port, r + 3);
    await host.connect();
    await guest.connect();
    await host.request({ type: 'create_room', name: 'Host', options: { rounds: Number(values.rounds), initial_flips: 1 } });
    await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.request({ type: 'add_cpu', profile: CPU_PROFILES[r % 8]!.name });
    await host.request({ type: 'start_game' });
    bots.push(host, guest);
  }
  const nudger = setInterval(() => bots.forEach((b) => b.tick()), 1000);
  let kills = 0;
  let drains = 0;
  const started = Date.now();
  const deadline = started + Number(values.seconds) * 1000;
  while (Date.now() < deadline && bots.some((b) => b.view?.phase !== 'game_over')) {
    await sleep(Number(values['every-ms']) * (0.5 + rng.next()));
    const i = rng.int(3);
    const node = nodes[i];
    if (!node) continue;
    nodes[i] = null;
    if (rng.next() < 0.5) {
      node.child.kill('SIGKILL');
      kills++;
    } else {
      node.child.kill('SIGTERM');
      drains++;
    }
    await node.exited;
    await sleep(500);
    nodes[i] = await spawnNode(env(i));
  }
  // Let the last games finish without more chaos.
  for (let i = 0; i < 600 && bots.some((b) => b.view?.phase !== 'game_over'); i++) await sleep(100);
  clearInterval(nudger);
  for (const b of bots) {
    b.done = true;
    b.ws?.close();
  }

  // Every acknowledged move is in PostgreSQL; every game ended and replays to its last state.
  const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {}, connection: { search_path: name } });
  const events = await sql<{ game_id: string; seq: number; type: string; player_id: string | null; command_id: string | null; data: unknown }[]>`
    select game_id, seq, type, player_id, command_id, data from events order by game_id, seq`;
  const games = await sql<{ game_id: string; status: string; last_seq: number }[]>`select game_id, status, last_seq from games`;
  const ids = new Set(events.map((e) => e.command_id).filter(Boolean));
  let acks = 0;
  let lost = 0;
  for (const b of bots) for (const id of b.acked.keys()) (acks++, ids.has(id) || lost++);
  let gaps = 0;
  let replayed = 0;
  for (const g of games) {
    const mine = events.filter((e) => e.game_id === g.game_id);
    if (mine.some((e, i) => e.seq !== i + 1) || mine.length !== g.last_seq) gaps++;
    const state = replay(mine.map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent));
    if (state.phase === 'game_over' && g.status === 'finished') replayed++;
  }
  const finished = bots.filter((b, i) => i % 2 === 0 && b.view?.phase === 'game_over').length;
  process.stdout.write(
    [
      `chaos: ${rooms} rooms (2 bots + 1 CPU each) on 3 nodes, ${((Date.now() - started) / 1000).toFixed(0)} s, ${kills} SIGKILLs and ${drains} SIGTERM drains (each node restarted)`,
      `games finished: ${finished}/${rooms} (players), ${replayed}/${games.length} ended in PostgreSQL and replay to game over`,
      `acknowledged moves: ${acks}, missing from PostgreSQL: ${lost}; games with gaps in their sequence: ${gaps}`,
      `bot reconnects: ${bots.reduce((n, b) => n + b.reconnects, 0)}`,
      '',
    ].join('\n'),
  );
  await sql.end();
  proxy.close();
  for (const node of nodes) if (node) {
    node.child.kill('SIGTERM');
    await node.exited;
  }
  const cleanup = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await cleanup.unsafe(`drop schema ${name} cascade`);
  await cleanup.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${name}:*`);
  for (let k = 0; k < keys.length; k += 500) await redis.del(...keys.slice(k, k + 500));
  redis.disconnect();
  process.exitCode = lost === 0 && gaps === 0 && finished === rooms ? 0 : 1;
}

await main();
