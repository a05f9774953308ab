/**
 * "Play again" (`next_game`, PROTOCOL.md): at game over the host starts a new game at the same
 * table: a new game id and event stream, the same seats and CPUs, the options kept; everyone
 * gets a `state` of it, old tokens resume into it, and the finished game stays in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { replay, type GameEvent } from '../../src/game/index.js';
import { TestClient } from '../support/client.js';
import { cleanup, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { assertNoSecrets, autoplay } from '../support/play.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
let redis: Redis;

beforeAll(async () => {
  node = await startTestNode();
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await node.drain();
  redis.disconnect();
  await cleanup(node.config);
});

describe('next_game', () => {
  it('starts a new game with the same seats, CPUs and options; retries apply once; tokens resume into it', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, use_jokers: true, initial_flips: 1 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.ok({ type: 'add_cpu', profile: 'Maya' });

    // Not before the game is over.
    expect(await host.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'invalid_move' });
    await host.ok({ type: 'start_game' });
    await Promise.all([autoplay(host, 0), autoplay(guest, 1)]);
    const finished = await host.waitForState((v) => v.phase === 'game_over');
    const oldGameId = finished.game_id as string;

    // Only the host.
    expect(await guest.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'not_host' });

    const guestFrom = guest.frames.length;
    const ack = await host.request({ type: 'next_game' }, 'again-1');
    expect(ack).toMatchObject({ type: 'ack', id: 'again-1' });
    const fresh = await host.waitForState((v) => v.game_id !== oldGameId);
    const seen = await guest.waitFor((f) => f.type === 'state' && f.state.game_id === fresh.game_id, 10_000, guestFrom);
    for (const view of [fresh, seen.state]) {
      expect(view.phase).toBe('initial_flip');
      expect(view.round).toBe(1);
      expect(view.options).toEqual(finished.options);
      expect(view.players.map((p: { id: string; name: string; is_cpu: boolean; cpu_profile: string | null }) => [p.id, p.name, p.is_cpu, p.cpu_profile])).toEqual(
        finished.players.map((p: { id: string; name: string; is_cpu: boolean; cpu_profile: string | null }) => [p.id, p.name, p.is_cpu, p.cpu_profile]),
      );
      expect(view.players.every((p: { total_score: number; rounds_won: number }) => p.total_score === 0 && p.rounds_won === 0)).toBe(true);
      expect(view.host_id).toBe(finished.host_id);
    }
    // The room's sequence starts anew.
    expect(seen.seq).toBeLessThan(finished.players.length + 4);

    // The same id again is the same command: acknowledged, no third game.
    const again = await host.request({ type: 'next_game' }, 'again-1');
    expect(again).toMatchObject({ type: 'ack' });
    expect(again.seq).toBe(ack.seq);
    const actor = node.runtime.hosted().find((a) => a.code === host.room)!;
    expect(actor.gameId).toBe(fresh.game_id);
    // A new id while the new game runs is refused: it is not over.
    expect(await host.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'invalid_move' });

    // The stores: the old game finished and kept, the new one with its own events, the code naming it.
    expect((await node.backends.events.getGame(oldGameId))?.status).toBe('finished');
    expect((await node.backends.events.getGame(fresh.game_id))?.status).toBe('playing');
    expect(await redis.hget(`${node.config.REDIS_PREFIX}room:${host.room}`, 'game_id')).toBe(fresh.game_id);
    const live = actor.game;
    const events = await node.backends.events.loadEvents(fresh.game_id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    // Replaying the new game's own stream gives exactly the live state.
    expect(replay(events.slice(0, live.seq).map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent))).toEqual(live);

    // The guest's old token resumes into the new game, on a new connection.
    const back = await TestClient.connect(node.port);
    expect((await back.request({ type: 'resume', token: guest.token })).type).toBe('ack');
    expect(back.view.game_id).toBe(fresh.game_id);
    expect(back.view.you).toBe(guest.playerId);

    // And the new game plays to its end like any other.
    await Promise.all([autoplay(host, 0), autoplay(guest, 1)]);
    const over = await host.waitForState((v) => v.phase === 'game_over' && v.game_id === fresh.game_id, 60_000);
    expect(over.winner_ids.length).toBeGreaterThan(0);
    for (const c of [host, guest]) for (const frame of c.frames) assertNoSecrets(frame, c.token);
    await Promise.all([host.close(), guest.close(), back.close()]);
  }, 120_000);

  it('across nodes: the host on another node than the room asks; the new game starts on the room\'s node and players there and elsewhere get it', async () => {
    const base = testConfig({ LEASE_TTL_MS: '1500' });
    const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(b.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      await host.ok({ type: 'start_game' });
      await Promise.all([autoplay(host, 0), autoplay(guest, 1)]);
      const over = await guest.waitForState((v) => v.phase === 'game_over');
      // The host comes back through node b: the room stays on a.
      await host.close();
      const remoteHost = await TestClient.connect(b.port);
      await remoteHost.ok({ type: 'resume', token: host.token });
      expect(a.runtime.hosted().map((r) => r.code)).toContain(host.room);
      expect(b.runtime.hosted().map((r) => r.code)).not.toContain(host.room);
      await remoteHost.ok({ type: 'next_game' });
      const fresh = await guest.waitForState((v) => v.game_id !== over.game_id);
      expect(fresh.phase).toBe('playing');
      expect((await remoteHost.waitForState((v) => v.game_id === fresh.game_id)).players).toHaveLength(2);
      expect(a.runtime.hosted().find((r) => r.code === host.room)?.gameId).toBe(fresh.game_id);
      await Promise.all([autoplay(remoteHost, 0), autoplay(guest, 1)]);
      expect((await guest.waitForState((v) => v.phase === 'game_over' && v.game_id === fresh.game_id, 60_000)).winner_ids.length).toBeGreaterThan(0);
      await Promise.all([remoteHost.close(), guest.close()]);
    } finally {
      await b.drain();
      await a.drain();
      await cleanup(base);
    }
  }, 120_000);
});
