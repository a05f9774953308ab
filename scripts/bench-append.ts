/**
 * The persistence path alone: R rooms each appending one move at a time (await, then the next),
 * through the group-commit batcher into PostgreSQL, with no WebSocket, machine or view work.
 * Shows what the event store takes, next to pgbench's single-row insert rate on the same server.
 *
 *   npx tsx scripts/bench-append.ts [--rooms 200] [--seconds 10] [--slots 4] [--stuck]
 *
 * `--slots`: transactions in flight at most (PG_COMMIT_SLOTS; more than one only while the
 * ones in flight are slow). `--stuck`: one more room whose game row another transaction holds
 * locked for the whole run, so that each of its commits waits until PG_QUERY_TIMEOUT_MS
 * (`--timeout-ms`, 3000) and fails: what the other rooms get done meanwhile.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { AppendBatcher } from '../src/runtime/append-batcher.js';
import { PgEventStore, type AppendRequest } from '../src/stores/event-store.js';
import { cpuMeter, pidsByCommand } from './lib/proc-stat.js';
import { resultTable, timedProgress } from './lib/report.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    slots: { type: 'string', default: '4' },
    stuck: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '3000' },
  },
});
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_app_${randomBytes(3).toString('hex')}`;
// The store's backends are told apart by their application name (PostgreSQL CPU per move).
process.env.PGAPPNAME = schema;
const store = new PgEventStore(DATABASE_URL, { schema, queryTimeoutMs: Number(values['timeout-ms']) });
await store.migrate();
const slots = Number(values.slots);
const batcher = new AppendBatcher(store, undefined, slots);
const rooms = Number(values.rooms);
const games = Array.from({ length: rooms }, () => ({ id: randomUUID(), seq: 0 }));
const stuck = { id: randomUUID(), seq: 0 };
// One unfinished game per room code (the unique index games_room_code_live): a code each.
for (const [i, g] of [...games, stuck].entries()) {
  if (!(await store.createGame({ game_id: g.id, room_code: `B${i}`, epoch: 1, server_id: 'bench', options: {} }))) throw new Error('bench game not created');
}
const move = (g: { id: string; seq: number }): AppendRequest => ({
  game_id: g.id,
  epoch: 1,
  expected_seq: g.seq,
  events: [{ type: 'card_drawn', player_id: 'p1', command_id: `c${g.seq}`, sender_id: 'p1', command_fp: 'x', data: { source: 'deck', card: { rank: '7', suit: 'clubs', deck: 0 } } }],
  at: new Date(),
  // As a room sends it: the row's options, players and winners only when they changed.
  summary: g.seq === 0 ? { status: 'playing', options: {}, players: [], winner_ids: [] } : { status: 'playing', options: null, players: null, winner_ids: null },
});
let locker: postgres.Sql | null = null;
let stuckFailures = 0;
/** Commits of the other rooms that failed (with --stuck: those batched with the stuck room's). */
let failures = 0;
const latency = createHistogram();
let moves = 0;
const end = Date.now() + Number(values.seconds) * 1000;
const work = games.map(async (g) => {
  while (Date.now() < end) {
    const t = process.hrtime.bigint();
    const done = await batcher.append(move(g)).then(
      () => true,
      () => false,
    );
    latency.record(Math.max(1, Math.round(Number(process.hrtime.bigint() - t) / 1000)));
    if (!done) {
      failures++;
      continue;
    }
    g.seq += 1;
    moves++;
  }
});
if (values.stuck) {
  locker = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  const held = await locker.reserve();
  await held`begin`;
  await held.unsafe(`select 1 from ${schema}.games where game_id = $1 for update`, [stuck.id]);
  work.push(
    (async () => {
      while (Date.now() < end) await batcher.append(move(stuck)).catch(() => stuckFailures++);
      await held`rollback`;
      held.release();
    })(),
  );
}
const probe = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
const pgPids = async () => [
  ...(await probe<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${schema}`).map((r) => r.pid),
  ...pidsByCommand('walwriter'),
];
const cpu = await cpuMeter({ postgres: pgPids, self: () => [process.pid] });
const started = performance.now();
const stopBar = timedProgress('appending', Number(values.seconds), () => `${(moves / ((performance.now() - started) / 1000)).toFixed(0)} moves/s`);
await Promise.all(work);
const used = await cpu.stop();
stopBar();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  resultTable(
    ['event store alone', 'value'],
    [
      ['rooms appending in turn', rooms],
      ['commit slots', slots],
      ...(values.stuck ? [['room stuck on a lock: commits timed out', stuckFailures]] : []),
      ['persisted moves/s', (moves / seconds).toFixed(0)],
      ['failed appends', failures],
      ['append p50 / p99 / max (ms)', `${(latency.percentile(50) / 1000).toFixed(2)} / ${(latency.percentile(99) / 1000).toFixed(2)} / ${(latency.max / 1000).toFixed(0)}`],
      ['PostgreSQL CPU per move (µs: this run\'s backends and the WAL writer)', ((used.postgres! * 1e6) / Math.max(1, moves)).toFixed(1)],
      ['this process\'s CPU per move (µs)', ((used.self! * 1e6) / Math.max(1, moves)).toFixed(1)],
      ['measured (s)', seconds.toFixed(1)],
    ],
  ),
);
await locker?.end();
await probe.end();
await store.sql.unsafe(`drop schema ${schema} cascade`);
await store.close();
