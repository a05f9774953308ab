/**
 * Room codes resolve only to live games (security review, items 1 and 3): a finished game, or
 * one idle for longer than ROOM_TTL_SECONDS, is no room, and looking at it writes nothing; an
 * unknown code is refused from the Redis room index, without asking PostgreSQL; the index
 * comes back after Redis loses it; PostgreSQL keeps one unfinished game per code.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import postgres from 'postgres';

// Room codes are four crypto.randomInt(24) letters: a test can make the next code collide.
const forcedLetters: number[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const randomInt = (...args: unknown[]) =>
    args.length === 1 && args[0] === 24 && forcedLetters.length > 0 ? forcedLetters.shift() : (real.randomInt as (...a: unknown[]) => number)(...args);
  return { ...real, default: { ...real, randomInt }, randomInt };
});

import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import type { RoomListener } from '../../src/runtime/room-actor.js';

const CODE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type TestNode = Awaited<ReturnType<typeof startTestNode>>;
let node: TestNode;
let sql: postgres.Sql;
const redis = new Redis(REDIS_URL);

beforeAll(async () => {
  node = await startTestNode(testConfig({ PASSIVATE_AFTER_MS: '1000', LEASE_TTL_MS: '1500' }));
  sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {}, connection: { search_path: node.config.DATABASE_SCHEMA } });
});
afterAll(async () => {
  await node.drain();
  await sql.end();
  await cleanup(node.config);
  redis.disconnect();
});

const key = (n: TestNode, suffix: string) => `${n.config.REDIS_PREFIX}${suffix}`;
const rowOf = async (gameId: string) =>
  (await sql`select epoch::int as epoch, status, server_id, last_seq from games where game_id = ${gameId}`)[0];
const gameIdOf = async (n: TestNode, code: string) => (await redis.hget(key(n, `room:${code}`), 'game_id')) as string;

/** Deletes every Redis key of the node's prefix, as a FLUSHALL or a restart without persistence would. */
async function flushRedis(n: TestNode): Promise<void> {
  const keys = await redis.keys(`${n.config.REDIS_PREFIX}*`);
  if (keys.length) await redis.del(...keys);
}

/** Lets a room nobody watches leave memory (passivation), as it would after PASSIVATE_AFTER_MS. */
async function passivate(n: TestNode, code: string): Promise<void> {
  await sleep(1100);
  await n.runtime.passivateIdle();
  expect(n.runtime.hosted().map((a) => a.code)).not.toContain(code);
}

/** A game played to its end (host against a CPU), then passivated. */
async function finishedGame(n: TestNode): Promise<{ code: string; gameId: string; token: string }> {
  const host = await TestClient.connect(n.port);
  await host.ok({ type: 'create_room', name: 'Winner', options: { rounds: 1, initial_flips: 0 } });
  await host.ok({ type: 'add_cpu', profile: 'Sofia' });
  await host.ok({ type: 'start_game' });
  await playUntil(host, () => false);
  expect(host.view.phase).toBe('game_over');
  const code = host.room;
  const gameId = n.runtime.hosted().find((a) => a.code === code)!.gameId;
  await host.close();
  await passivate(n, code);
  return { code, gameId, token: host.token };
}

/** A lobby (host and a CPU) nobody watches any more, passivated. */
async function passivatedLobby(n: TestNode): Promise<{ code: string; gameId: string; token: string; seq: number }> {
  const host = await TestClient.connect(n.port);
  await host.ok({ type: 'create_room', name: 'Sleeper' });
  await host.ok({ type: 'add_cpu', profile: 'Sage' });
  const actor = n.runtime.hosted().find((a) => a.code === host.room)!;
  const out = { code: host.room, gameId: actor.gameId, token: host.token, seq: actor.seq };
  await host.close();
  await passivate(n, out.code);
  return out;
}

const silentListener = (playerId: string): RoomListener & { frames: number } => {
  const listener = { playerId, frames: 0, state: () => void listener.frames++, evicted: () => {}, unseated: () => {} };
  return listener;
};

describe('a room code names a live game only', () => {
  it('a finished game is no room: join_room and watch answer unknown_room and write nothing (no epoch, lease or key)', async () => {
    const { code, gameId } = await finishedGame(node);
    const before = await rowOf(gameId);
    expect(before!.status).toBe('finished');
    const hash = await redis.hgetall(key(node, `room:${code}`));
    const keysBefore = (await redis.keys(`${node.config.REDIS_PREFIX}*`)).sort();

    const late = await TestClient.connect(node.port);
    const reply = await late.request({ type: 'join_room', room: code, name: 'Late' });
    const watched = await node.runtime.watch(code, silentListener('nobody'));
    process.stdout.write(`join_room of a finished game: ${reply.code}; epoch ${before!.epoch} -> ${(await rowOf(gameId))!.epoch}\n`);
    expect(reply).toMatchObject({ type: 'error', code: 'unknown_room' });
    expect(watched).not.toBe('watching');
    expect(await rowOf(gameId)).toEqual(before);
    expect(await redis.exists(key(node, `room:${code}:lease`))).toBe(0);
    expect(await redis.hgetall(key(node, `room:${code}`))).toEqual(hash);
    expect((await redis.keys(`${node.config.REDIS_PREFIX}*`)).sort()).toEqual(keysBefore);
    expect(node.runtime.hosted().map((a) => a.code)).not.toContain(code);

    // Its room hash gone too (as when it expires): still no room, and nothing is brought back.
    await redis.del(key(node, `room:${code}`));
    expect(await late.request({ type: 'join_room', room: code, name: 'Later' })).toMatchObject({ type: 'error', code: 'unknown_room' });
    expect(await rowOf(gameId)).toEqual(before);
    expect(await redis.exists(key(node, `room:${code}`), key(node, `room:${code}:lease`))).toBe(0);
    await late.close();
  });

  it('a finished game still hosted (its players looking at the standings) takes no one new either', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Stays', options: { rounds: 1, initial_flips: 0 } });
    await host.ok({ type: 'add_cpu', profile: 'Maya' });
    await host.ok({ type: 'start_game' });
    await playUntil(host, () => false);
    expect(node.runtime.hosted().map((a) => a.code)).toContain(host.room);
    const late = await TestClient.connect(node.port);
    expect(await late.request({ type: 'join_room', room: host.room, name: 'Late' })).toMatchObject({ type: 'error', code: 'unknown_room' });
    expect(node.runtime.hosted().find((a) => a.code === host.room)!.game.players).toHaveLength(2);
    await Promise.all([host.close(), late.close()]);
  });

  it('an unfinished game idle for longer than ROOM_TTL_SECONDS is no room either', async () => {
    const { code, gameId } = await passivatedLobby(node);
    await sql`update games set updated_at = now() - make_interval(secs => ${node.config.ROOM_TTL_SECONDS + 60}) where game_id = ${gameId}`;
    const before = await rowOf(gameId);
    const late = await TestClient.connect(node.port);
    expect(await late.request({ type: 'join_room', room: code, name: 'Late' })).toMatchObject({ type: 'error', code: 'unknown_room' });
    expect(await rowOf(gameId)).toEqual(before);
    expect(await redis.exists(key(node, `room:${code}:lease`))).toBe(0);
    await late.close();
  });
});

describe('unknown codes are cheap to refuse', () => {
  it('200 guessed codes are answered unknown_room from Redis, with no PostgreSQL query', async () => {
    // A node of its own, whose background work (adoption scans, passivation) queries nothing for a minute.
    const quiet = await startTestNode(testConfig({ LEASE_TTL_MS: '120000' }));
    const store = quiet.backends.events as unknown as { sql: postgres.Sql };
    const real = store.sql;
    const queries: string[] = [];
    store.sql = new Proxy(real, {
      apply(target, self, args) {
        queries.push(Array.isArray(args[0]) ? (args[0] as string[]).join('?').replace(/\s+/g, ' ').slice(0, 80) : 'helper');
        return Reflect.apply(target as never, self, args);
      },
    });
    try {
      const guesser = await TestClient.connect(quiet.port);
      const replies = [];
      for (let i = 0; i < 200; i++) {
        const code = [...Array(4)].map((_, j) => CODE_LETTERS[(i * 7 + j * 5 + Math.floor(i / 24)) % 24]).join('');
        replies.push(await guesser.request({ type: 'join_room', room: code, name: 'Guess' }));
      }
      process.stdout.write(`200 guessed codes: ${queries.length} PostgreSQL queries\n`);
      expect(replies.every((r) => r.type === 'error' && r.code === 'unknown_room')).toBe(true);
      expect(queries).toEqual([]);
      await guesser.close();
    } finally {
      store.sql = real;
      await quiet.drain();
      await cleanup(quiet.config);
    }
  });
});

describe('the Redis room index is rebuilt from PostgreSQL', () => {
  it('after Redis loses everything, a node notices and puts back the rooms of unfinished games without being asked', async () => {
    const { code, gameId, token, seq } = await passivatedLobby(node);
    await flushRedis(node);
    let found: string | null = null;
    for (let i = 0; i < 100 && found === null; i++) {
      found = await redis.hget(key(node, `room:${code}`), 'game_id');
      if (found === null) await sleep(100);
    }
    expect(found).toBe(gameId);
    expect(await redis.hget(key(node, `room:${code}`), 'status')).toBe('lobby');
    const ttl = await redis.ttl(key(node, `room:${code}`));
    expect(ttl).toBeGreaterThan(node.config.ROOM_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(node.config.ROOM_TTL_SECONDS);
    // The passivated game is resumable and joinable as before.
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token });
    expect(back.seq).toBe(seq);
    expect(back.view.players.map((p: { name: string }) => p.name)).toEqual(['Sleeper', 'Sage']);
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: code, name: 'Guest' });
    await Promise.all([back.close(), guest.close()]);
  });

  it('a lookup right after Redis was flushed (before the periodic check) still finds a passivated game', async () => {
    const { code, token } = await passivatedLobby(node);
    await flushRedis(node);
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token });
    expect(back.room).toBe(code);
    await back.close();
  });

  it('a rebuild never overwrites what a live node wrote meanwhile', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Live' });
    const code = host.room;
    await redis.hset(key(node, `room:${code}`), 'server_id', 'newer-owner', 'epoch', '99');
    await node.runtime.rebuildIndex();
    expect(await redis.hmget(key(node, `room:${code}`), 'server_id', 'epoch')).toEqual(['newer-owner', '99']);
    await host.close();
  });
});

describe('one room code, one unfinished game (PostgreSQL)', () => {
  it('a second unfinished game with the same code cannot be inserted; a finished one does not count', async () => {
    const store = node.backends.events;
    const game = (id: string) => ({ game_id: id, room_code: 'ZZZZ', epoch: 1, server_id: 'x', options: {} });
    expect(await store.createGame(game('dup-1'))).toBe(true);
    expect(await store.createGame(game('dup-2'))).toBe(false);
    await expect(sql`insert into games (game_id, room_code) values ('dup-3', 'ZZZZ')`).rejects.toMatchObject({ code: '23505' });
    await sql`update games set status = 'finished' where game_id = 'dup-1'`;
    expect(await store.createGame(game('dup-4'))).toBe(true);
    expect(await sql`select game_id from games where room_code = 'ZZZZ' and status in ('lobby', 'playing')`).toEqual([{ game_id: 'dup-4' }]);
  });

  it('the migration settles duplicates left by older versions: the newest stays, the others are abandoned', async () => {
    await sql`drop index games_room_code_live`;
    await sql`delete from schema_migrations where version = 2`;
    await sql`insert into games (game_id, room_code, status, created_at) values
      ('old-a', 'YYYY', 'playing', now() - interval '3 minutes'),
      ('old-b', 'YYYY', 'lobby', now() - interval '2 minutes'),
      ('new-c', 'YYYY', 'playing', now() - interval '1 minute'),
      ('done-d', 'YYYY', 'finished', now())`;
    await node.backends.events.migrate();
    const rows = await sql`select game_id, status from games where room_code = 'YYYY' order by game_id`;
    expect(rows).toEqual([
      { game_id: 'done-d', status: 'finished' },
      { game_id: 'new-c', status: 'playing' },
      { game_id: 'old-a', status: 'abandoned' },
      { game_id: 'old-b', status: 'abandoned' },
    ]);
    await expect(sql`insert into games (game_id, room_code) values ('again', 'YYYY')`).rejects.toMatchObject({ code: '23505' });
  });

  it('create_room after a Redis flush does not hand out the code of a passivated unfinished game', async () => {
    const quiet = await startTestNode(testConfig({ LEASE_TTL_MS: '120000', PASSIVATE_AFTER_MS: '1000' }));
    try {
      const lobby = await passivatedLobby(quiet);
      await flushRedis(quiet);
      forcedLetters.push(...[...lobby.code].map((letter) => CODE_LETTERS.indexOf(letter)));
      const creator = await TestClient.connect(quiet.port);
      await creator.ok({ type: 'create_room', name: 'Newcomer' });
      process.stdout.write(`create_room after a flush, first code drawn ${lobby.code}: got ${creator.room}\n`);
      expect(forcedLetters).toEqual([]);
      expect(creator.room).not.toBe(lobby.code);
      // PostgreSQL refused the code, and that had the index rebuilt (the periodic check is minutes away).
      let restored: string | null = null;
      for (let i = 0; i < 40 && restored === null; i++) {
        restored = await redis.hget(key(quiet, `room:${lobby.code}`), 'game_id');
        if (restored === null) await sleep(50);
      }
      expect(restored).toBe(lobby.gameId);
      const back = await TestClient.connect(quiet.port);
      await back.ok({ type: 'resume', token: lobby.token });
      expect(back.view.players.map((p: { name: string }) => p.name)).toEqual(['Sleeper', 'Sage']);
      const unfinished = await quiet.backends.events.sql`select game_id from games where room_code = ${lobby.code} and status in ('lobby', 'playing')`;
      expect(unfinished).toEqual([{ game_id: lobby.gameId }]);
      await Promise.all([creator.close(), back.close()]);
    } finally {
      await quiet.drain();
      await cleanup(quiet.config);
    }
  });
});
