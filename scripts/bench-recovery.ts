/**
 * Recovery benchmark: N active games (default 10,000) in PostgreSQL and Redis, then a node's
 * recovery at start is timed twice: from the Redis snapshots, and from the events alone
 * (Redis flushed). Targets on the 2-core machine: under 5 s and under 30 s.
 *
 *   npx tsx scripts/bench-recovery.ts [--games 10000]
 * Uses DATABASE_URL and REDIS_URL (default: the local servers) with a fresh schema and prefix.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { playCpuGame, randomOptions } from '../src/ai/selfplay.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { rebuildContext } from '../src/runtime/restore.js';
import { summaryOf } from '../src/runtime/room-actor.js';
import { RoomRuntime } from '../src/runtime/runtime.js';
import { openBackends } from '../src/stores/index.js';
import type { EventRecord } from '../src/stores/event-store.js';
import { randomRoomCode } from '../src/runtime/runtime.js';
import { stateValueFor } from '../actors/room-machine.js';
import { progress, resultTable } from './lib/report.js';

const { values } = parseArgs({ options: { games: { type: 'string', default: '10000' } } });
const games = Number(values.games);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = `bench_rec_${randomBytes(3).toString('hex')}`;
const timing = { cpu_think_ms: 600_000, round_pause_ms: 600_000, disconnect_grace_ms: 600_000 };
const config = loadConfig({ DATABASE_URL, REDIS_URL, DATABASE_SCHEMA: name, REDIS_PREFIX: `${name}:`, LOG_LEVEL: 'warn' });
const log = createLogger('warn');

/** Recovery runs on this event loop between its batches: the bar follows the rooms hosted. */
async function recovering<T>(label: string, runtime: RoomRuntime, run: () => Promise<T>): Promise<T> {
  const bar = progress(label, games, 'rooms');
  const timer = setInterval(() => bar.update(runtime.roomCount), 200);
  try {
    return await run();
  } finally {
    clearInterval(timer);
    bar.stop();
  }
}

async function main() {
  const backends = await openBackends(config, log);
  const sql = backends.events.sql;
  // A pool of mid-game event logs (CPU games cut at a random point), reused under new ids.
  const templates: Array<{ events: EventRecord[]; seq: number }> = [];
  for (let i = 0; i < 200; i++) {
    const full = playCpuGame(i, 2 + (i % 5), { ...randomOptions(i), rounds: 3 }).events;
    const cut = 10 + ((i * 7919) % Math.max(1, full.length - 12));
    const events = full.slice(0, cut).map((e, k) => ({ game_id: '', seq: k + 1, type: e.type, player_id: e.player_id, command_id: null, sender_id: null, command_fp: null, data: e.data, created_at: new Date() }));
    templates.push({ events, seq: cut });
  }
  const codes = new Set<string>();
  const plan = Array.from({ length: games }, (_, i) => {
    let code = randomRoomCode();
    while (codes.has(code)) code = randomRoomCode() + '';
    codes.add(code);
    return { game_id: randomUUID(), code, template: templates[i % templates.length]! };
  });
  if (codes.size < games) throw new Error('not enough room codes');
  let t = performance.now();
  let eventCount = 0;
  const setupBar = progress('writing games', games, 'games');
  for (let i = 0; i < plan.length; i += 500) {
    setupBar.update(i, `${eventCount} events`);
    const chunk = plan.slice(i, i + 500);
    const rows = chunk.map((g) => {
      const context = rebuildContext(null, g.template.seq, g.template.events, timing).context;
      const summary = summaryOf(context.game);
      return { game_id: g.game_id, room_code: g.code, status: summary.status, options: sql.json(summary.options as never), players: sql.json(summary.players as never), epoch: 1, last_seq: g.template.seq, server_id: 'bench-dead-node' };
    });
    await sql`insert into games ${sql(rows)}`;
    const events = chunk.flatMap((g) => g.template.events.map((e) => ({ game_id: g.game_id, seq: e.seq, type: e.type, player_id: e.player_id, command_id: null, data: sql.json(e.data as never) })));
    eventCount += events.length;
    for (let k = 0; k < events.length; k += 5000) await sql`insert into events ${sql(events.slice(k, k + 5000))}`;
    await Promise.all(
      chunk.map(async (g) => {
        const context = rebuildContext(null, g.template.seq, g.template.events, timing).context;
        await backends.cache.createRoom(g.code, { game_id: g.game_id, host_id: context.game.host_id, created_at: new Date().toISOString(), status: 'playing', server_id: 'bench-dead-node', epoch: 1 });
        await backends.cache.saveSnapshot(g.code, g.game_id, { seq: g.template.seq, epoch: 1, snapshot: { value: stateValueFor(context.game.phase, true), context } }, []);
      }),
    );
  }
  setupBar.stop();
  const setup = (performance.now() - t) / 1000;
  const options = { nodeId: `bench-${process.pid}`, timing, roomTtlSeconds: 3600, passivateAfterMs: 3_600_000, leaseTtlMs: 30_000, snapshotFlushMs: 100 };

  const fromSnapshots = new RoomRuntime(backends, options, log);
  const a = await recovering('recovery (snapshots)', fromSnapshots, () => fromSnapshots.recoverAll());
  const rssA = process.memoryUsage().rss;
  await fromSnapshots.drain(10_000);

  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${config.REDIS_PREFIX}*`);
  for (let k = 0; k < keys.length; k += 1000) await redis.del(...keys.slice(k, k + 1000));
  const fromEvents = new RoomRuntime(backends, { ...options, nodeId: `bench-${process.pid}-b` }, log);
  t = performance.now();
  const b = await recovering('recovery (events)', fromEvents, () => fromEvents.recoverAll());
  await fromEvents.drain(10_000);

  process.stdout.write(`games: ${games} active, events: ${eventCount} (set-up ${setup.toFixed(1)} s)\n`);
  process.stdout.write(
    resultTable(
      ['recovery', 'time (s)', 'recovered', 'from', 'failed', 'rss (MiB)'],
      [
        ['from Redis snapshots', (a.ms / 1000).toFixed(2), a.recovered, JSON.stringify(a.from), a.failed.length, (rssA / 1048576).toFixed(0)],
        ['from events alone', (b.ms / 1000).toFixed(2), b.recovered, JSON.stringify(b.from), b.failed.length, '-'],
      ],
    ),
  );
  await redis.del(...(await redis.keys(`${config.REDIS_PREFIX}*`)).concat(['__none__']));
  redis.disconnect();
  await backends.close();
  const cleanup = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await cleanup.unsafe(`drop schema ${name} cascade`);
  await cleanup.end();
}

await main();
