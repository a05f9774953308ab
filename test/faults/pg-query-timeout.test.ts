/**
 * Every PostgreSQL call is bounded (PG_QUERY_TIMEOUT_MS), even when the link stalls and never
 * answers nor refuses (the fault proxy holds its bytes); a failure says whether the statement
 * may have been written; and the connections that timed out do not poison the pool.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStoreInDoubt, EventStoreUnavailable, PgEventStore, type AppendRequest } from '../../src/stores/event-store.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { DATABASE_URL, uniqueName } from '../support/node.js';

const TIMEOUT_MS = 800;
const schema = uniqueName('pgtimeout');
let proxy: FaultProxy;
const stores: PgEventStore[] = [];

function store(max = 4): PgEventStore {
  const s = new PgEventStore(proxy.url(DATABASE_URL), { schema, max, queryTimeoutMs: TIMEOUT_MS });
  stores.push(s);
  return s;
}

const append = (game: string, expected: number): AppendRequest => ({
  game_id: game,
  epoch: 1,
  expected_seq: expected,
  events: [{ type: 'flip_skipped', player_id: 'p1', command_id: `c${expected}`, sender_id: 'p1', command_fp: 'f', data: {} }],
  at: new Date(),
  summary: { status: 'playing', options: {}, players: [], winner_ids: [] },
});

/** Settles `work`, with how long it took. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const t = performance.now();
  const [result] = await Promise.allSettled([work]);
  return { ms: performance.now() - t, result: result! };
}

beforeAll(async () => {
  proxy = await FaultProxy.start(Number(new URL(DATABASE_URL).port || 5432));
  const s = store();
  await s.migrate();
  await s.createGame({ game_id: 'g1', room_code: 'TOUT', epoch: 1, server_id: 'n1', options: {} });
});
afterAll(async () => {
  proxy.heal();
  for (const s of stores) await s.close().catch(() => undefined);
  await proxy.close();
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop schema if exists "${schema}" cascade`);
  await sql.end();
});

describe('PostgreSQL calls over a stalled link', () => {
  it('every call ends within the bound; a sent append is in doubt, a queued call is not; after the stall the pool works at once', async () => {
    const s = store(4);
    await s.getGame('g1'); // a warm connection
    proxy.hold();
    // More calls than connections: some are sent, the rest wait for a connection.
    const calls = [
      timed(s.appendBatch([append('g1', 0)])),
      ...Array.from({ length: 11 }, () => timed(s.getGame('g1'))),
      timed(s.claimEpoch('g1', 'n2')),
    ];
    const settled = await Promise.all(calls);
    const slowest = Math.max(...settled.map((c) => c.ms));
    process.stdout.write(`stalled link: ${settled.length} calls all failed within ${slowest.toFixed(0)} ms (bound ${TIMEOUT_MS} ms)\n`);
    for (const c of settled) {
      expect(c.result.status).toBe('rejected');
      expect((c.result as PromiseRejectedResult).reason).toBeInstanceOf(EventStoreUnavailable);
      expect(c.ms).toBeLessThan(TIMEOUT_MS + 2000);
    }
    // The append had been handed to a connection: nobody can say whether it was committed.
    expect((settled[0]!.result as PromiseRejectedResult).reason).toBeInstanceOf(EventStoreInDoubt);
    // Those that waited for one of the 4 connections never reached PostgreSQL, and say so.
    const certain = settled.filter((c) => !((c.result as PromiseRejectedResult).reason instanceof EventStoreInDoubt));
    expect(certain.length).toBeGreaterThanOrEqual(settled.length - 4);

    proxy.heal();
    const t = performance.now();
    const after = await Promise.all(Array.from({ length: 12 }, () => s.getGame('g1')));
    const ms = performance.now() - t;
    process.stdout.write(`after the stall: 12 calls answered in ${ms.toFixed(0)} ms\n`);
    expect(after.every((g) => g?.game_id === 'g1')).toBe(true);
    expect(ms).toBeLessThan(2000);
  });

  it('a stall before any connection is made: connecting is bounded too, and the call is known not to have run', async () => {
    const s = store(2);
    proxy.hold();
    const c = await timed(s.appendBatch([append('g1', 0)]));
    process.stdout.write(`stalled connect: failed in ${c.ms.toFixed(0)} ms\n`);
    expect(c.result.status).toBe('rejected');
    const reason = (c.result as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(EventStoreUnavailable);
    expect(reason).not.toBeInstanceOf(EventStoreInDoubt);
    expect(c.ms).toBeLessThan(TIMEOUT_MS + 2000);
    proxy.heal();
    expect((await s.getGame('g1'))?.last_seq).toBe(0);
  });

  it('repeated stalls leave no connection stuck: after ten of them, the full pool answers', async () => {
    const s = store(3);
    for (let i = 0; i < 10; i++) {
      await s.getGame('g1');
      proxy.hold();
      const stalled = await Promise.allSettled([s.getGame('g1'), s.getGame('g1'), s.loadEvents('g1'), s.getGame('g1')]);
      expect(stalled.every((r) => r.status === 'rejected' && r.reason instanceof EventStoreUnavailable)).toBe(true);
      proxy.heal();
    }
    const t = performance.now();
    const answers = await Promise.all(Array.from({ length: 12 }, () => s.getGame('g1')));
    const ms = performance.now() - t;
    process.stdout.write(`after ten stalls: 12 calls answered in ${ms.toFixed(0)} ms\n`);
    expect(answers.every((g) => g?.game_id === 'g1')).toBe(true);
    expect(ms).toBeLessThan(1000);
  });

  it('a connection reset while a statement waits for its answer: in doubt (a refused connection: not)', async () => {
    const s = store(2);
    await s.getGame('g1');
    proxy.hold();
    const pending = timed(s.appendBatch([append('g1', 0)]));
    await new Promise((r) => setTimeout(r, 100));
    proxy.cut();
    const c = await pending;
    expect((c.result as PromiseRejectedResult).reason).toBeInstanceOf(EventStoreInDoubt);
    const refused = await timed(s.getGame('g1'));
    expect((refused.result as PromiseRejectedResult).reason).toBeInstanceOf(EventStoreUnavailable);
    expect((refused.result as PromiseRejectedResult).reason).not.toBeInstanceOf(EventStoreInDoubt);
    expect(refused.ms).toBeLessThan(500);
    proxy.heal();
    expect((await s.getGame('g1'))?.game_id).toBe('g1');
  });
});
