import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { AppendBatcher, FencedError } from '../../src/runtime/append-batcher.js';
import { EventDataRejected, PgEventStore, type AppendRequest } from '../../src/stores/event-store.js';
import { DATABASE_URL, uniqueName } from '../support/node.js';

const schema = uniqueName('batch');
const store = new PgEventStore(DATABASE_URL, { schema });

beforeAll(async () => {
  await store.migrate();
  for (let i = 0; i < 6; i++) await store.createGame({ game_id: `g${i}`, room_code: `R${i}XX`, epoch: 1, server_id: 'n1', options: {} });
});
afterAll(async () => {
  await store.close();
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop schema if exists "${schema}" cascade`);
  await sql.end();
});

const request = (game: string, commandId: string, expected = 0): AppendRequest => ({
  game_id: game,
  epoch: 1,
  expected_seq: expected,
  events: [{ type: 'flip_skipped', player_id: 'p1', command_id: commandId, sender_id: 'p1', command_fp: 'f', data: {} }],
  at: new Date(),
  summary: { status: 'playing', options: {}, players: [], winner_ids: [] },
});

describe('the append batcher', () => {
  it('one request whose data PostgreSQL refuses fails alone; the others in its batch are committed', async () => {
    const batcher = new AppendBatcher(store);
    // The first append goes out alone; the next five wait for it and share one statement.
    const first = batcher.append(request('g0', 'ok-0'));
    const rest = [
      batcher.append(request('g1', 'ok-1')),
      batcher.append(request('g2', 'bad-\u0000')),
      batcher.append(request('g3', 'bad-\uD800')),
      batcher.append(request('g4', 'ok-4')),
      batcher.append(request('g5', 'ok-5', 7)),
    ];
    const results = await Promise.allSettled([first, ...rest]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(EventDataRejected);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(EventDataRejected);
    expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
    for (const [game, seq] of [['g0', 1], ['g1', 1], ['g2', 0], ['g3', 0], ['g4', 1], ['g5', 0]] as const) {
      expect((await store.getGame(game))?.last_seq).toBe(seq);
    }
    const [stored] = await store.loadEvents('g1');
    expect(stored).toMatchObject({ command_id: 'ok-1', sender_id: 'p1', command_fp: 'f' });
  });
});

describe('commit slots', () => {
  /** A store whose commits end when the test says, recording each batch. */
  function manualStore() {
    const batches: Array<{ games: string[]; done: () => void }> = [];
    const store = {
      appendBatch: (requests: readonly AppendRequest[]) =>
        new Promise<Set<string>>((resolve) => batches.push({ games: requests.map((r) => r.game_id), done: () => resolve(new Set(requests.map((r) => r.game_id))) })),
    };
    return { store, batches };
  }

  it('one transaction at a time while commits are quick; another only once every one in flight is slow', async () => {
    const { store, batches } = manualStore();
    const batcher = new AppendBatcher(store, undefined, 3, 500, 100);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const games = () => batches.map((b) => b.games);
    const appended = [batcher.append(request('a', 'x')), batcher.append(request('b', 'x')), batcher.append(request('c', 'x'))];
    await sleep(20);
    expect(games()).toEqual([['a']]);
    // The first commit turns slow: the appends behind it go in a second transaction.
    await sleep(120);
    expect(games()).toEqual([['a'], ['b', 'c']]);
    // Behind a young commit, an append waits (for it, or for it to turn slow too).
    appended.push(batcher.append(request('d', 'x')));
    await sleep(20);
    expect(games()).toHaveLength(2);
    await sleep(120);
    expect(games()).toEqual([['a'], ['b', 'c'], ['d']]);
    // Three in flight, all slow: the limit; the next goes when one ends.
    appended.push(batcher.append(request('e', 'x')));
    await sleep(150);
    expect(games()).toHaveLength(3);
    batches[0]!.done();
    await sleep(10);
    expect(games()).toEqual([['a'], ['b', 'c'], ['d'], ['e']]);
    for (const b of batches.slice(1)) b.done();
    await Promise.all(appended);
    expect(await batcher.idle(100)).toBe(true);
  });

  it('idle() is bounded', async () => {
    const { store, batches } = manualStore();
    const batcher = new AppendBatcher(store);
    const stuck = batcher.append(request('a', 'x'));
    const t = performance.now();
    expect(await batcher.idle(50)).toBe(false);
    expect(performance.now() - t).toBeLessThan(500);
    batches[0]!.done();
    await stuck;
  });
});
