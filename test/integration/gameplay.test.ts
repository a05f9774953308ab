import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { replay, type GameEvent } from '../../src/game/index.js';
import { summaryOf } from '../../src/runtime/room-actor.js';
import { decodeSnapshot } from '../../src/stores/state-cache.js';
import { TestClient } from '../support/client.js';
import { cleanup, REDIS_URL, startTestNode } from '../support/node.js';
import { assertNoSecrets, autoplay } from '../support/play.js';
import { expectReplayEndsAsSeen } from '../support/replay.js';

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

async function seatedGame(humans: number, cpus: number, options: Record<string, unknown>) {
  const host = await TestClient.connect(node.port);
  await host.ok({ type: 'create_room', name: 'Host', options });
  const clients = [host];
  for (let i = 1; i < humans; i++) {
    const c = await TestClient.connect(node.port);
    await c.ok({ type: 'join_room', room: host.room.toLowerCase(), name: `Player ${i}` });
    clients.push(c);
  }
  for (let i = 0; i < cpus; i++) await host.ok({ type: 'add_cpu' });
  await host.ok({ type: 'start_game' });
  return clients;
}

async function checkStores(room: string) {
  const actor = node.runtime.hosted().find((a) => a.code === room)!;
  await node.runtime.snapshots.flush();
  // Read from Redis as the text is stored (cards compact), decoded as a restore does.
  const cached = decodeSnapshot(await redis.get(`${node.config.REDIS_PREFIX}game:${actor.gameId}`)) as any;
  expect(cached.seq).toBe(actor.seq);
  expect(cached.snapshot.context.game).toEqual(actor.game);
  const events = await node.backends.events.loadEvents(actor.gameId);
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length: actor.seq }, (_, i) => i + 1));
  const rebuilt = replay(events.map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent));
  expect(rebuilt).toEqual(actor.game);
  // The games row's summary is the game's, though most moves leave it out (unchanged).
  const row = (await node.backends.events.sql<Array<{ status: string; options: unknown; players: unknown; winner_ids: unknown; last_seq: number }>>`
    select status, options, players, winner_ids, last_seq from games where game_id = ${actor.gameId}`)[0]!;
  const summary = summaryOf(actor.game);
  expect(row).toEqual({ status: summary.status, options: summary.options, players: summary.players, winner_ids: summary.winner_ids, last_seq: actor.seq });
  return actor;
}

describe('full games over WebSockets', () => {
  const ruleSets: Array<[string, number, number, Record<string, unknown>]> = [
    ['defaults, 2 humans and 2 CPUs', 2, 2, { rounds: 2 }],
    ['jokers, flip always, knock rules, 1 human and 3 CPUs', 1, 3, { rounds: 2, use_jokers: true, flip_mode: 'always', knock_bonus: true, knock_penalty: true, initial_flips: 1 }],
    ['endgame flips, flip as action, knock early, scoring rules, 3 humans', 3, 0, { rounds: 2, flip_mode: 'endgame', flip_as_action: true, knock_early: true, super_kings: true, ten_penny: true, four_of_a_kind: true, tied_shame: true, underdog_bonus: true }],
    ['six seats, lucky swing, no initial flips', 2, 4, { rounds: 1, use_jokers: true, lucky_swing: true, initial_flips: 0, eagle_eye: true, wolfpack: true, blackjack: true }],
  ];
  for (const [title, humans, cpus, options] of ruleSets) {
    it(`${title}: plays to game_over; no frame leaks a secret; cache and replay equal the live state`, async () => {
      const clients = await seatedGame(humans, cpus, options);
      // A spectator watches from the first round: it sees the game to its end, and no secret.
      const spectator = await TestClient.connect(node.port);
      await spectator.ok({ type: 'watch', room: clients[0]!.room });
      await Promise.all(clients.map((c, i) => autoplay(c, i)));
      const watched = await spectator.waitForState((v) => v.phase === 'game_over');
      expect(watched.you).toBeNull();
      expect(watched.replay_id).toBeNull();
      for (const frame of spectator.frames) {
        assertNoSecrets(frame);
        if (frame.type === 'state') expect(frame.state).toMatchObject({ you: null, must: null, drawn_card: null });
      }
      for (const c of clients) {
        const final = await c.waitForState((v) => v.phase === 'game_over');
        expect(final.winner_ids.length).toBeGreaterThan(0);
        expect(final.players).toHaveLength(humans + cpus);
        for (const p of final.players) expect(p.cards.every((card: { face_up: boolean }) => card.face_up)).toBe(true);
        for (const frame of c.frames) assertNoSecrets(frame, c.token);
        // The replay its link serves, folded with the engine, ends as this player saw it.
        await expectReplayEndsAsSeen(node.port, final);
      }
      const actor = await checkStores(clients[0]!.room);
      expect(actor.game.phase).toBe('game_over');
      const row = await node.backends.events.getGame(actor.gameId);
      expect(row?.status).toBe('finished');
      await Promise.all([...clients, spectator].map((c) => c.close()));
    });
  }
});

describe('the deal on a live node', () => {
  it('rooms set up alike get unrelated deals from 256 bits of CSPRNG entropy, stored with the round and never sent', async () => {
    const shoes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [host] = await seatedGame(1, 2, { rounds: 1 });
      const actor = node.runtime.hosted().find((a) => a.code === host!.room)!;
      const events = await node.backends.events.loadEvents(actor.gameId);
      const round = events.find((e) => e.type === 'round_started')!;
      const started = events.find((e) => e.type === 'game_started')!;
      const shoe = (round.data as { shoe: Array<{ rank: string; suit: string; deck: number }> }).shoe;
      expect(shoe).toHaveLength(52);
      expect(Object.keys(started.data as object)).toEqual(['decks']);
      expect(JSON.stringify(round.data)).not.toMatch(/seed/);
      shoes.push(shoe.map((c) => `${c.rank}${c.suit}${c.deck}`).join());
      for (const frame of host!.frames) assertNoSecrets(frame, host!.token);
      await host!.close();
    }
    expect(new Set(shoes).size).toBe(shoes.length);
  });
});
