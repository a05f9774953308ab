/**
 * Chaos run: node processes on a throwaway Redis and PostgreSQL, rooms of bots playing through
 * a front proxy, while faults are injected at random (seeded): SIGKILL, SIGTERM drain, SIGSTOP
 * then SIGCONT, a node holding mostly sockets killed, Redis restarted empty, PostgreSQL
 * restarted, a node's Redis link cut or held, its PostgreSQL link held, latency on its links.
 * Nodes that are stopped come back. Afterwards it checks:
 *   - every acknowledged command is in PostgreSQL exactly once (never lost, never applied twice);
 *   - every game's sequence is gap-free and its events replay;
 *   - no two players saw different public tables at the same sequence, and nobody saw the
 *     sequence go backwards;
 *   - every unfinished room accepted a move within 10 s of the last fault;
 *   - no node crashed.
 * It prints the faults, and per fault kind the p50/p99/max time from the fault to each affected
 * room's next accepted move.
 *
 *   npx tsx scripts/chaos.ts [--nodes 3] [--rooms 30] [--seconds 180] [--every-ms 6000] [--rounds 18] [--think-ms 150] [--seed 1] [--faults a,b,...]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { CPU_PROFILES } from '../src/ai/index.js';
import { simulationRng } from '../src/ai/selfplay.js';
import { replay, type GameEvent } from '../src/game/index.js';
import { ChaosBot } from './lib/chaos-bot.js';
import { ChaosCluster, FAULT_KINDS, type Fault, type FaultKind } from './lib/chaos-cluster.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    rooms: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '180' },
    'every-ms': { type: 'string', default: '6000' },
    seed: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '18' },
    'think-ms': { type: 'string', default: '150' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
  },
});
const name = `chaos_${randomBytes(3).toString('hex')}`;
const rng = simulationRng('chaos', Number(values.seed));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kinds = values.faults.split(',') as FaultKind[];
for (const kind of kinds) if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault ${kind}; one of ${FAULT_KINDS.join(', ')}`);
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const cluster = await ChaosCluster.start(Number(values.nodes), name, {
  // The project's defaults unless asked otherwise.
  ...(process.env.LEASE_TTL_MS ? { LEASE_TTL_MS: process.env.LEASE_TTL_MS } : {}),
  CPU_THINK_MS: '50',
  ROUND_PAUSE_MS: '300',
  DISCONNECT_GRACE_MS: '5000',
  DRAIN_TIMEOUT_MS: '5000',
});
const rooms = Number(values.rooms);
const think = Number(values['think-ms']);
const bots: ChaosBot[] = [];
const codes: string[] = [];
for (let r = 0; r < rooms; r++) {
  const host = new ChaosBot(() => cluster.port, r, think);
  const guest = new ChaosBot(() => cluster.port, r + 3, think);
  await host.connect();
  await guest.connect();
  await host.request({ type: 'create_room', name: 'Host', options: { rounds: Number(values.rounds), initial_flips: 1 } });
  await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
  await host.request({ type: 'add_cpu', profile: CPU_PROFILES[r % 8]!.name });
  await host.request({ type: 'start_game' });
  bots.push(host, guest);
  codes.push(host.room);
}
const nudger = setInterval(() => bots.forEach((b) => b.tick()), 1000);
const started = Date.now();
const deadline = started + Number(values.seconds) * 1000;
const faults: Fault[] = [];
const playing = () => codes.filter((_, r) => bots[2 * r]!.view?.phase !== 'game_over');
const upcoming: FaultKind[] = [];
while (Date.now() < deadline && playing().length > 0) {
  await sleep(Number(values['every-ms']) * (0.5 + rng.next()));
  // Every kind comes up once per cycle, in a seeded order, so a run sees them all.
  if (upcoming.length === 0) upcoming.push(...kinds.map((kind) => ({ kind, key: rng.next() })).sort((a, b) => a.key - b.key).map((x) => x.kind));
  const kind = upcoming.shift()!;
  const fault = await cluster.inject(kind, (n) => rng.int(Math.max(1, n)), playing());
  faults.push(fault);
  log(`${fault.kind}${fault.node === null ? '' : ` node ${fault.node}`}: ${fault.rooms.length} rooms affected, lifted after ${fault.endedAt - fault.at} ms`);
}
const lastFault = faults.length ? Math.max(...faults.map((f) => f.endedAt)) : started;
// Let the games run on without faults: every unfinished room must take a move within 10 s.
const unfinishedAtLastFault = playing();
await sleep(15_000);
clearInterval(nudger);
for (const b of bots) b.stop();

// What the players were told.
const acksByRoom = new Map<string, number[]>();
for (const b of bots) {
  const list = acksByRoom.get(b.room) ?? [];
  for (const { at } of b.acked.values()) list.push(at);
  acksByRoom.set(b.room, list);
}
for (const list of acksByRoom.values()) list.sort((a, b) => a - b);
const nextMoveAfter = (room: string, t: number) => acksByRoom.get(room)?.find((at) => at >= t);

// What PostgreSQL holds.
const sql = postgres(cluster.postgres.url, { max: 2, onnotice: () => {}, connection: { search_path: name } });
const events = await sql<{ game_id: string; seq: number; type: string; player_id: string | null; command_id: string | null; created_at: Date; data: unknown }[]>`
  select game_id, seq, type, player_id, command_id, created_at, data from events order by game_id, seq`;
const games = await sql<{ game_id: string; room_code: string; status: string; last_seq: number }[]>`select game_id, room_code, status, last_seq from games`;
await sql.end();

// Acknowledged exactly once: every acked id is there; each id's events are one contiguous append.
type Row = (typeof events)[number];
const byCommand = new Map<string, Row[]>();
for (const e of events) {
  if (!e.command_id) continue;
  const key = `${e.game_id}|${e.command_id}`;
  byCommand.set(key, [...(byCommand.get(key) ?? []), e]);
}
const storedIds = new Set(events.map((e) => e.command_id).filter(Boolean));
let acks = 0;
let lost = 0;
// Seat-taking commands (create_room, join_room) keep no id in the room: their seat is their proof.
for (const b of bots) for (const [id, ack] of b.acked) if (ack.type !== 'create_room' && ack.type !== 'join_room') (acks++, storedIds.has(id) || lost++);
let doubled = 0;
for (const list of byCommand.values()) {
  const contiguous = list.every((e, i) => i === 0 || e.seq === list[i - 1]!.seq + 1);
  const appends = new Set(list.map((e) => e.created_at.getTime())).size;
  if (!contiguous || appends > 1) doubled++;
}
let gaps = 0;
let unreplayable = 0;
for (const g of games) {
  const mine = events.filter((e) => e.game_id === g.game_id);
  if (mine.some((e, i) => e.seq !== i + 1) || mine.length !== g.last_seq) gaps++;
  try {
    replay(mine.map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent));
  } catch {
    unreplayable++;
  }
}
// Same sequence, same public table, for everyone.
const seen = new Map<string, string>();
let divergent = 0;
for (const b of bots) for (const [key, digest] of b.seen) {
  const other = seen.get(key);
  if (other === undefined) seen.set(key, digest);
  else if (other !== digest) divergent++;
}
const backwards = bots.reduce((n, b) => n + b.backwards, 0);
// Every unfinished room took a move within 10 s of the last fault.
const stuck = unfinishedAtLastFault.filter((room) => {
  const next = nextMoveAfter(room, lastFault);
  return next === undefined || next - lastFault > 10_000;
});

// Per fault kind: time from the fault to each affected room's next accepted move.
const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const rows: string[] = [];
for (const kind of kinds) {
  const mine = faults.filter((f) => f.kind === kind);
  const waits: number[] = [];
  for (const f of mine) for (const room of f.rooms) {
    const next = nextMoveAfter(room, f.at);
    if (next !== undefined) waits.push(next - f.at);
  }
  waits.sort((a, b) => a - b);
  const lifted = mine.map((f) => f.endedAt - f.at).sort((a, b) => a - b);
  rows.push(
    `| ${kind} | ${mine.length} | ${waits.length} | ${mine.length ? `${q(lifted, 50)}` : '-'} | ${waits.length ? `${q(waits, 50)} / ${q(waits, 99)} / ${waits[waits.length - 1]}` : '-'} |`,
  );
}
const finished = codes.filter((_, r) => bots[2 * r]!.view?.phase === 'game_over').length;
process.stdout.write(
  [
    `chaos: ${values.nodes} nodes, ${rooms} rooms (2 bots + 1 CPU each), ${((lastFault - started) / 1000).toFixed(0)} s of faults (${faults.length}), seed ${values.seed}, LEASE_TTL_MS=${process.env.LEASE_TTL_MS ?? 'default'}`,
    '',
    '| fault | injected | affected rooms | lifted after (ms, p50) | fault to next accepted move, ms (p50 / p99 / max) |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `acknowledged moves: ${acks}; lost: ${lost}; applied twice: ${doubled}`,
    `games: ${games.length}; with sequence gaps: ${gaps}; not replayable: ${unreplayable}; finished: ${finished}/${rooms}`,
    `divergent public states at one sequence: ${divergent}; sequences shown going backwards: ${backwards}`,
    `rooms stuck (no move within 10 s of the last fault): ${stuck.length}${stuck.length ? ` (${stuck.join(', ')})` : ''}`,
    `node crashes: ${cluster.crashes.length}; bot reconnects: ${bots.reduce((n, b) => n + b.reconnects, 0)}`,
    '',
  ].join('\n'),
);
for (const crash of cluster.crashes) process.stdout.write(`crash of node ${crash.node} (exit ${crash.code}):\n${crash.logs.join('\n')}\n`);
await cluster.close();
process.exit(lost + doubled + gaps + unreplayable + divergent + backwards + stuck.length + cluster.crashes.length === 0 ? 0 : 1);
