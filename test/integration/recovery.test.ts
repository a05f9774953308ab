import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import type { Config } from '../../src/config.js';

const configs: Config[] = [];
afterEach(async () => {
  for (const config of configs.splice(0)) await cleanup(config);
});

async function twoHumans(port: number, options: Record<string, unknown> = {}) {
  const host = await TestClient.connect(port);
  await host.ok({ type: 'create_room', name: 'H', options });
  const guest = await TestClient.connect(port);
  await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
  await host.ok({ type: 'start_game' });
  return [host, guest] as const;
}

describe('recovery inside a node (restart of the runtime on the same stores)', () => {
  it('skips ended games, reports a corrupt game with its id and reason, and recovers the rest', async () => {
    const config = testConfig({ ROUND_PAUSE_MS: '600000' });
    configs.push(config);
    const a = await startTestNode(config);
    const [h1, g1] = await twoHumans(a.port, { rounds: 1, initial_flips: 0 });
    await Promise.all([playUntil(h1, () => false), playUntil(g1, () => false, 1)]);
    expect(h1.view.phase).toBe('game_over');
    const [h2, g2] = await twoHumans(a.port, { initial_flips: 0 });
    await Promise.all([playUntil(h2, (v) => v.round === 1 && v.players.some((p: { cards: { face_up: boolean }[] }) => p.cards.filter((c) => c.face_up).length >= 3), 2), playUntil(g2, (v) => v.players.some((p: { cards: { face_up: boolean }[] }) => p.cards.filter((c) => c.face_up).length >= 3), 3)]);
    const [h3] = await twoHumans(a.port, { initial_flips: 0 });
    await h3.ok({ type: 'draw', source: 'deck' });
    const corruptGame = a.runtime.hosted().find((x) => x.code === h2.room)!.gameId;
    const goodSeq = a.runtime.hosted().find((x) => x.code === h3.room)!.seq;
    await Promise.all([h1, g1, h2, g2, h3].map((c) => c.close()));
    await a.drain();
    // Corrupt one game's log: a drawn card that is not the deck's top; and drop its snapshot.
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: config.DATABASE_SCHEMA } });
    const [row] = await sql`select seq from events where game_id = ${corruptGame} and type = 'card_drawn' order by seq desc limit 1`;
    await sql`update events set data = jsonb_set(data, '{card,deck}', '7') where game_id = ${corruptGame} and seq = ${row!.seq}`;
    await sql.end();
    const redis = new Redis(REDIS_URL);
    await redis.del(`${config.REDIS_PREFIX}game:${corruptGame}`);
    redis.disconnect();

    const b = await startTestNode(config);
    try {
      expect(b.recovery.recovered).toBe(1);
      expect(b.recovery.failed).toHaveLength(1);
      expect(b.recovery.failed[0]).toMatchObject({ game_id: corruptGame, room: h2.room });
      expect(b.recovery.failed[0]!.reason).toMatch(/does not match/);
      const hosted = b.runtime.hosted().map((x) => x.code);
      expect(hosted).toEqual([h3.room]); // not the ended game, not the corrupt one
      expect(b.runtime.hosted()[0]!.seq).toBe(goodSeq);
      const back = await TestClient.connect(b.port);
      await back.ok({ type: 'resume', token: h3.token });
      expect(back.view.must).toBe('place');
      expect(back.view.drawn_card).not.toBeNull();
      await back.close();
    } finally {
      await b.drain();
    }
  });

  it('restores from the events alone, and from a snapshot plus later events, to the same state', async () => {
    const config = testConfig({ ROUND_PAUSE_MS: '600000' });
    configs.push(config);
    const a = await startTestNode(config);
    const [h, g] = await twoHumans(a.port, { initial_flips: 1 });
    await Promise.all([playUntil(h, (v) => v.phase === 'playing' && v.must === 'draw'), playUntil(g, (v) => v.phase === 'playing')]);
    await a.runtime.snapshots.flush();
    const redis = new Redis(REDIS_URL);
    const gameId = a.runtime.hosted()[0]!.gameId;
    const key = `${config.REDIS_PREFIX}game:${gameId}`;
    const older = await redis.get(key);
    const target = JSON.parse(older!).seq + 4;
    await Promise.all([playUntil(h, () => h.seq >= target), playUntil(g, () => g.seq >= target, 1)]);
    const live = a.runtime.hosted()[0]!;
    const expected = { seq: live.seq, game: structuredClone(live.game), view: live.viewOf(h.playerId) };
    await Promise.all([h.close(), g.close()]);
    await a.drain();

    // Snapshot older than the events:
    await redis.set(key, older!);
    const b = await startTestNode(config);
    expect(b.recovery.from['snapshot+events']).toBe(1);
    const fromPartial = b.runtime.hosted()[0]!;
    expect(fromPartial.seq).toBe(expected.seq);
    expect(fromPartial.game).toEqual(expected.game);
    await b.drain();

    // No snapshot at all:
    await redis.del(key, `${config.REDIS_PREFIX}room:${h.room}`);
    const c = await startTestNode(config);
    expect(c.recovery.from.events).toBe(1);
    const fromEvents = c.runtime.hosted()[0]!;
    expect(fromEvents.game).toEqual(expected.game);
    expect(await redis.hget(`${config.REDIS_PREFIX}room:${h.room}`, 'game_id')).toBe(gameId);
    const back = await TestClient.connect(c.port);
    await back.ok({ type: 'resume', token: h.token });
    expect({ ...back.view, players: back.view.players.map((p: Record<string, unknown>) => ({ ...p, connected: null })) }).toEqual({
      ...expected.view,
      players: expected.view.players.map((p) => ({ ...p, connected: null })),
    });
    await back.close();
    await c.drain();
    redis.disconnect();
  });
});

describe('passivation', () => {
  it('a room someone watches, or with a timer pending, is not passivated', async () => {
    const config = testConfig({ PASSIVATE_AFTER_MS: '1000' });
    configs.push(config);
    const node = await startTestNode(config);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Idle', options: { initial_flips: 0 } });
      const guest = await TestClient.connect(node.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
      await host.ok({ type: 'start_game' });
      await host.ok({ type: 'draw', source: 'deck' });
      await host.waitForState((v) => v.must === 'place');
      const actor = node.runtime.hosted()[0]!;
      await new Promise((r) => setTimeout(r, 1100));
      // Watched rooms stay.
      expect(await node.runtime.passivateIdle()).toBe(0);
      await Promise.all([host.close(), guest.close()]);
      // A disconnected player's turn is a pending timer: the room stays until it is not.
      await new Promise((r) => setTimeout(r, 1100));
      expect(actor.hasDeadline).toBe(true);
      expect(await node.runtime.passivateIdle()).toBe(0);
    } finally {
      await node.drain();
    }
  });

  it('an idle lobby nobody watches leaves memory (flushed, released) and a resume brings it back exactly', async () => {
    const config = testConfig({ PASSIVATE_AFTER_MS: '1000' });
    configs.push(config);
    const node = await startTestNode(config);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Idle' });
      await host.ok({ type: 'add_cpu', profile: 'Sage' });
      const gameId = node.runtime.hosted()[0]!.gameId;
      const seq = node.runtime.hosted()[0]!.seq;
      await host.close();
      await new Promise((r) => setTimeout(r, 1100));
      expect(await node.runtime.passivateIdle()).toBe(1);
      expect(node.runtime.hosted()).toHaveLength(0);
      expect((await node.backends.events.getGame(gameId))?.server_id).toBeNull();
      const redis = new Redis(REDIS_URL);
      expect(await redis.hget(`${config.REDIS_PREFIX}room:${host.room}`, 'server_id')).toBe('');
      expect(JSON.parse((await redis.get(`${config.REDIS_PREFIX}game:${gameId}`))!).seq).toBe(seq);
      redis.disconnect();
      const back = await TestClient.connect(node.port);
      await back.ok({ type: 'resume', token: host.token });
      expect(back.seq).toBe(seq);
      expect(back.view.players.map((p: { name: string }) => p.name)).toEqual(['Idle', 'Sage']);
      expect(node.runtime.hosted()).toHaveLength(1);
      await back.ok({ type: 'start_game' });
      await back.close();
    } finally {
      await node.drain();
    }
  });
});

describe('at-most-once across a restore from events', () => {
  it('a command id re-sent after the room was rebuilt from its events alone is not applied again', async () => {
    const config = testConfig();
    configs.push(config);
    const a = await startTestNode(config);
    const host = await TestClient.connect(a.port);
    await host.ok({ type: 'create_room', name: 'H' });
    expect(await host.request({ type: 'add_cpu', profile: 'Maya' }, 'add-cpu-1')).toMatchObject({ type: 'ack' });
    expect(await host.request({ type: 'set_options', options: { rounds: 3 } }, 'opts-1')).toMatchObject({ type: 'ack' });
    const gameId = a.runtime.hosted()[0]!.gameId;
    await host.close();
    await a.drain();
    const redis = new Redis(REDIS_URL);
    await redis.del(`${config.REDIS_PREFIX}game:${gameId}`);
    redis.disconnect();

    const b = await startTestNode(config);
    try {
      expect(b.recovery.from.events).toBe(1);
      const back = await TestClient.connect(b.port);
      await back.ok({ type: 'resume', token: host.token });
      const seq = back.seq;
      expect(await back.request({ type: 'add_cpu', profile: 'Maya' }, 'add-cpu-1')).toMatchObject({ type: 'ack', seq: 3 });
      expect(await back.request({ type: 'set_options', options: { rounds: 3 } }, 'opts-1')).toMatchObject({ type: 'ack' });
      expect(await back.request({ type: 'add_cpu', profile: 'Kenji' }, 'opts-1')).toMatchObject({ type: 'error', code: 'bad_request' });
      expect(b.runtime.hosted()[0]!.game.players).toHaveLength(2);
      expect(b.runtime.hosted()[0]!.seq).toBe(seq);
      await back.close();
    } finally {
      await b.drain();
    }
  });
});
