/**
 * Spectators as hostile clients would use them (issue 13): arriving, syncing or turning
 * spectator at the moment a player holds a drawn card; comparing every hand they are shown with
 * what the players are shown; switching rooms and leaving to see whether the old room keeps
 * talking to them, on the room's node and through another node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { assertNoSecrets, playUntil } from '../support/play.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

async function twoNodes(overrides: Record<string, string> = {}) {
  const base = testConfig(overrides);
  configs.push(base);
  const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
  const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
  return { a, b };
}

/** Every view a client holds (patches applied), with the sequence it came at. */
const views = (c: TestClient) => c.frames.filter((f) => f.type === 'state' || f.type === 'welcome') as Frame[];

/**
 * Nothing a spectator holds is a seat's: no seat, no duty, no drawn card, no replay link (from
 * its first spectator's welcome on: a connection may have held a seat before).
 */
function expectPublic(c: TestClient): void {
  const from = c.frames.findIndex((f) => f.type === 'welcome' && f.player_id === null);
  expect(from).toBeGreaterThanOrEqual(0);
  for (const f of views(c).filter((v) => c.frames.indexOf(v) >= from)) {
    assertNoSecrets(f);
    expect(f.state).toMatchObject({ you: null, must: null, drawn_card: null, replay_id: null });
  }
  const rawFrom = c.raw.findIndex((f) => f.type === 'welcome' && f.player_id === null);
  for (const f of c.raw.slice(rawFrom).filter((x) => x.type === 'patch')) expect(JSON.stringify(f.ops)).not.toMatch(/"\/(you|must|drawn_card|replay_id)"/);
}

describe('spectators at the worst moment', () => {
  it('a spectator arriving, syncing, or a seat’s second connection turning spectator while that seat holds a drawn card sees no drawn card; every hand shown to spectators is the hand shown to the players', async () => {
    const { a, b } = await twoNodes({ ROUND_PAUSE_MS: '50' });
    try {
      const host = await TestClient.connect(a.port, { patches: true });
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 2, initial_flips: 0 } });
      const guest = await TestClient.connect(b.port, { patches: true });
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      const early = await TestClient.connect(b.port, { patches: true });
      await early.ok({ type: 'watch', room: host.room });
      await host.ok({ type: 'start_game' });

      // Whichever human's turn comes first draws from the deck and holds the card.
      const humans = [host, guest];
      await Promise.race(humans.map((c) => c.waitForState((v) => v.must === 'draw', 30_000)));
      const holder = humans.find((c) => c.view.must === 'draw')!;
      await holder.ok({ type: 'draw', source: 'deck' });
      const held = await holder.waitForState((v) => v.drawn_card !== null);
      expect(held.drawn_from).toBe('deck');

      // Now: newcomers on both nodes, a sync from each, and the holder's own second connection
      // (on the other node) turning spectator.
      const late = await Promise.all([a, b].map((n) => TestClient.connect(n.port, { patches: true })));
      for (const s of late) await s.ok({ type: 'watch', room: host.room });
      const turncoat = await TestClient.connect(holder === host ? b.port : a.port, { patches: true });
      await turncoat.ok({ type: 'resume', token: holder.token });
      expect(turncoat.view.drawn_card).toEqual(held.drawn_card);
      const welcomed = await turncoat.request({ type: 'watch', room: host.room });
      expect(welcomed.type).toBe('ack');
      const spectators = [early, ...late, turncoat];
      for (const s of spectators) {
        await s.ok({ type: 'sync' });
        expect(s.view).toMatchObject({ you: null, must: null, drawn_card: null, drawn_from: 'deck', current_player_id: holder.playerId });
      }
      // Turning spectator gave up nothing: the seat is still the holder's, its card still held.
      expect(await turncoat.request({ type: 'discard' })).toMatchObject({ type: 'error', code: 'unauthorized' });

      await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
      const over = await host.waitForState((v) => v.phase === 'game_over');
      for (const s of spectators) await s.waitForState((v) => v.phase === 'game_over' && v.seq === over.seq);
      await new Promise((r) => setTimeout(r, 300));

      for (const s of spectators) expectPublic(s);
      // Every hand a spectator is shown at a sequence is the hand every player is shown then:
      // no card face up for spectators that is down for players (nor the other way round).
      const playersAt = new Map<number, Frame>();
      for (const p of humans) for (const f of views(p)) playersAt.set(f.seq, f.state);
      let compared = 0;
      for (const s of spectators) {
        for (const f of views(s)) {
          const seen = playersAt.get(f.seq);
          if (!seen || seen.game_id !== f.state.game_id) continue;
          expect(f.state.players.map((p: Frame) => p.cards)).toEqual(seen.players.map((p: Frame) => p.cards));
          expect(f.state.discard_top).toEqual(seen.discard_top);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(50);
      process.stdout.write(`spectator views compared hand by hand with the players': ${compared}\n`);
    } finally {
      await b.drain();
      await a.drain();
    }
  });
});

describe('spectators who move on', () => {
  for (const where of ['the rooms’ node', 'another node'] as const) {
    it(`on ${where}: a spectator that watches another room, then leaves, hears nothing more of the rooms it left, and the rooms stop counting it`, async () => {
      const { a, b } = await twoNodes();
      try {
        const [x, y] = await Promise.all([TestClient.connect(a.port), TestClient.connect(a.port)]);
        await x.ok({ type: 'create_room', name: 'Xavier', options: { initial_flips: 0 } });
        await y.ok({ type: 'create_room', name: 'Yusuf', options: { initial_flips: 0 } });
        for (const host of [x, y]) await host.ok({ type: 'add_cpu', profile: 'Marcus' });
        const s = await TestClient.connect(where === 'another node' ? b.port : a.port, { patches: true });
        await s.ok({ type: 'watch', room: x.room });
        await x.waitForState((v) => v.spectators === 1);

        await s.ok({ type: 'watch', room: y.room });
        const movedAt = s.frames.length;
        await y.waitForState((v) => v.spectators === 1);
        await x.waitForState((v) => v.spectators === 0);
        await x.ok({ type: 'start_game' });
        await playUntil(x, () => x.seq >= 12);
        await y.ok({ type: 'start_game' });
        await s.waitForState((v) => v.room === y.room && v.phase !== 'lobby');

        await s.ok({ type: 'leave' });
        const leftAt = s.frames.length;
        await y.waitForState((v) => v.spectators === 0);
        await Promise.all([playUntil(x, () => x.seq >= 30), playUntil(y, () => y.seq >= 12)]);
        await new Promise((r) => setTimeout(r, 300));

        expect(views(s).slice(0).filter((f) => f.state.room === x.room && s.frames.indexOf(f) >= movedAt)).toEqual([]);
        expect(s.frames.slice(leftAt).filter((f) => f.type === 'state' || f.type === 'welcome' || f.type === 'patch')).toEqual([]);
        expect(s.raw.filter((f) => f.type === 'patch' || f.type === 'state').length).toBeGreaterThan(0);
        expectPublic(s);
      } finally {
        await b.drain();
        await a.drain();
      }
    });
  }
});
