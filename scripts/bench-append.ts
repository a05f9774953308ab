/**
 * The persistence path alone: R rooms each appending one move at a time (await, then the next),
 * through the group-commit batcher into PostgreSQL, with no WebSocket, machine or view work.
 * Shows what the event store takes, next to pgbench's single-row insert rate on the same server.
 *
 *   npx tsx scripts/bench-append.ts [--rooms 200] [--seconds 10]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AppendBatcher } from '../src/runtime/append-batcher.js';
import { PgEventStore } from '../src/stores/event-store.js';
import { resultTable, timedProgress } from './lib/report.js';

const { values } = parseArgs({ options: { rooms: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' } } });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_app_${randomBytes(3).toString('hex')}`;
const store = new PgEventStore(DATABASE_URL, { schema });
await store.migrate();
const batcher = new AppendBatcher(store);
const rooms = Number(values.rooms);
const games = Array.from({ length: rooms }, () => ({ id: randomUUID(), seq: 0 }));
// A code each: PostgreSQL allows one unfinished game per room code (a shared code left every
// game but the first uncreated, and their appends fenced).
for (const [i, g] of games.entries()) {
  if (!(await store.createGame({ game_id: g.id, room_code: `B${i}`, epoch: 1, server_id: 'bench', options: {} }))) throw new Error(`game ${i} not created`);
}
const latency = createHistogram();
let moves = 0;
const end = Date.now() + Number(values.seconds) * 1000;
const started = performance.now();
const stopBar = timedProgress('appending', Number(values.seconds), () => `${(moves / ((performance.now() - started) / 1000)).toFixed(0)} moves/s`);
await Promise.all(
  games.map(async (g) => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      await batcher.append({
        game_id: g.id,
        epoch: 1,
        expected_seq: g.seq,
        events: [{ type: 'card_drawn', player_id: 'p1', command_id: `c${g.seq}`, sender_id: 'p1', command_fp: 'x', data: { source: 'deck', card: { rank: '7', suit: 'clubs', deck: 0 } } }],
        at: new Date(),
        summary: { status: 'playing', options: {}, players: [], winner_ids: [] },
      });
      latency.record(Math.max(1, Math.round(Number(process.hrtime.bigint() - t) / 1000)));
      g.seq += 1;
      moves++;
    }
  }),
);
stopBar();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  resultTable(
    ['event store alone', 'value'],
    [
      ['rooms appending in turn', rooms],
      ['persisted moves/s', (moves / seconds).toFixed(0)],
      ['moves', moves],
      ['append p50 (ms)', (latency.percentile(50) / 1000).toFixed(2)],
      ['append p99 (ms)', (latency.percentile(99) / 1000).toFixed(2)],
      ['measured (s)', seconds.toFixed(1)],
    ],
  ),
);
await store.sql.unsafe(`drop schema ${schema} cascade`);
await store.close();
