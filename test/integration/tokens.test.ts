/**
 * Resume tokens (security review, items 2 and 6): a token of an ended game shows its standings
 * while the game is inside ROOM_TTL_SECONDS, read-only (no epoch, no lease, no actor); after
 * that, or once the game is gone, it is refused. And raw tokens never cross the Redis bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import type { Config } from '../../src/config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type TestNode = Awaited<ReturnType<typeof startTestNode>>;

const redis = new Redis(REDIS_URL);
const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
  redis.disconnect();
});

const key = (n: TestNode, suffix: string) => `${n.config.REDIS_PREFIX}${suffix}`;

describe('tokens of ended games', () => {
  let node: TestNode;
  let sql: postgres.Sql;
  beforeAll(async () => {
    const config = testConfig({ PASSIVATE_AFTER_MS: '1000' });
    configs.push(config);
    node = await startTestNode(config);
    sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {}, connection: { search_path: config.DATABASE_SCHEMA } });
  });
  afterAll(async () => {
    await node.drain();
    await sql.end();
  });

  const rowOf = async (gameId: string) => (await sql`select epoch::int as epoch, status, server_id, last_seq from games where game_id = ${gameId}`)[0];

  /** Two humans play one round to the end; the room then leaves memory (passivation). */
  async function endedGame() {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Ann', options: { rounds: 1, initial_flips: 0 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Bo' });
    await host.ok({ type: 'start_game' });
    await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
    const code = host.room;
    const gameId = node.runtime.hosted().find((a) => a.code === code)!.gameId;
    const standings = host.view;
    await Promise.all([host.close(), guest.close()]);
    await sleep(1100);
    await node.runtime.passivateIdle();
    expect(node.runtime.hosted().map((a) => a.code)).not.toContain(code);
    return { code, gameId, standings, host, guest };
  }

  it('inside the TTL: resume shows the final standings, read-only (no epoch, lease or actor); commands change nothing', async () => {
    const { code, gameId, standings, guest } = await endedGame();
    const before = await rowOf(gameId);
    const back = await TestClient.connect(node.port);
    const reply = await back.request({ type: 'resume', token: guest.token });
    process.stdout.write(`resume of an ended game inside the TTL: ${reply.type}; epoch ${before!.epoch} -> ${(await rowOf(gameId))!.epoch}\n`);
    expect(reply.type).toBe('ack');
    expect(back.view.phase).toBe('game_over');
    expect(back.view.you).toBe(guest.playerId);
    expect(back.view.winner_ids).toEqual(standings.winner_ids);
    expect(back.view.players.map((p: { total_score: number }) => p.total_score)).toEqual(standings.players.map((p: { total_score: number }) => p.total_score));
    expect(await rowOf(gameId)).toEqual(before);
    expect(await redis.exists(key(node, `room:${code}:lease`))).toBe(0);
    expect(node.runtime.hosted().map((a) => a.code)).not.toContain(code);
    // Nothing can change in an ended game: a command is refused, and still nothing is written.
    expect(await back.request({ type: 'next_round' })).toMatchObject({ type: 'error', code: 'invalid_move' });
    expect(await rowOf(gameId)).toEqual(before);
    expect(node.runtime.hosted().map((a) => a.code)).not.toContain(code);
    await back.close();
  });

  it('past the TTL (whatever Redis still holds), or once the game is gone: unauthorized, and nothing written', async () => {
    const ttl = node.config.ROOM_TTL_SECONDS;
    // Ended long ago, its keys expired.
    const expired = await endedGame();
    await sql`update games set updated_at = now() - make_interval(secs => ${ttl + 60}), ended_at = now() - make_interval(secs => ${ttl + 60}) where game_id = ${expired.gameId}`;
    const keys = await redis.keys(`${node.config.REDIS_PREFIX}room:${expired.code}*`);
    if (keys.length) await redis.del(...keys);
    await redis.del(key(node, `game:${expired.gameId}`));
    const before = await rowOf(expired.gameId);
    const c = await TestClient.connect(node.port);
    const reply = await c.request({ type: 'resume', token: expired.host.token });
    process.stdout.write(`resume of a game ended past the TTL: ${reply.type} ${reply.code ?? ''}; epoch ${before!.epoch} -> ${(await rowOf(expired.gameId))!.epoch}\n`);
    expect(reply).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect(await rowOf(expired.gameId)).toEqual(before);
    expect(await redis.keys(`${node.config.REDIS_PREFIX}room:${expired.code}*`)).toEqual([]);

    // Ended long ago in PostgreSQL, though Redis still has its room (a TTL refreshed by mistake).
    const stale = await endedGame();
    await sql`update games set updated_at = now() - make_interval(secs => ${ttl + 60}) where game_id = ${stale.gameId}`;
    const staleBefore = await rowOf(stale.gameId);
    expect(await c.request({ type: 'resume', token: stale.guest.token })).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect(await rowOf(stale.gameId)).toEqual(staleBefore);

    // The game's row is gone from PostgreSQL.
    const gone = await endedGame();
    await sql`delete from events where game_id = ${gone.gameId}`;
    await sql`delete from games where game_id = ${gone.gameId}`;
    expect(await c.request({ type: 'resume', token: gone.host.token })).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect(await redis.exists(key(node, `room:${gone.code}:lease`))).toBe(0);
    await c.close();
  });
});

describe('raw tokens stay off the Redis bus', () => {
  it('a cross-node join, play and resume publish player ids and token hashes, never a token', async () => {
    const config = testConfig({ LEASE_TTL_MS: '1500' });
    configs.push(config);
    const a = await startTestNode({ ...config, NODE_ID: `${config.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...config, NODE_ID: `${config.REDIS_PREFIX}b` });
    const listener = new Redis(REDIS_URL);
    const published: string[] = [];
    try {
      listener.on('pmessage', (_pattern, _channel, message: string) => published.push(message));
      await listener.psubscribe(`${config.REDIS_PREFIX}bus:*`);
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'OnA', options: { initial_flips: 0 } });
      const guest = await TestClient.connect(b.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'OnB' });
      await host.ok({ type: 'start_game' });
      await host.ok({ type: 'draw', source: 'deck' });
      // Each seat comes back on the other node: the resume is forwarded to the room's owner (A).
      const hostOnB = await TestClient.connect(b.port);
      await hostOnB.ok({ type: 'resume', token: host.token });
      const guestOnB = await TestClient.connect(b.port);
      await guestOnB.ok({ type: 'resume', token: guest.token });
      await hostOnB.ok({ type: 'discard' });
      await sleep(200);
      const resumes = published.filter((m) => m.includes('"type":"resume"'));
      expect(resumes.length).toBeGreaterThanOrEqual(2);
      const secrets = [host.token, guest.token].flatMap((token) => [token, token.split('.').pop()!]);
      const leaks = published.filter((m) => secrets.some((s) => m.includes(s)));
      process.stdout.write(`bus messages: ${published.length}, carrying a raw token: ${leaks.length}\n`);
      expect(leaks).toEqual([]);
      await Promise.all([host, guest, hostOnB, guestOnB].map((c) => c.close()));
    } finally {
      listener.disconnect();
      await b.drain();
      await a.drain();
    }
  });
});
