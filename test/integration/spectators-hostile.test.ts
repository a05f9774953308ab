/**
 * Spectators attacked (PROTOCOL.md "Spectators"): the per-room cap holds however the watchers
 * arrive (all at once, through another node), and a spectator's frames stay public.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { assertNoSecrets, autoplay } from '../support/play.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

describe('the spectator cap under a crowd', () => {
  it('watchers arriving all at once through another node are let in up to SPECTATORS_PER_ROOM, not past it', async () => {
    const base = testConfig({ SPECTATORS_PER_ROOM: '2' });
    configs.push(base);
    const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      const crowd = await Promise.all([1, 2, 3, 4, 5, 6].map(() => TestClient.connect(b.port)));
      const replies = await Promise.all(crowd.map((c) => c.request({ type: 'watch', room: host.room })));
      const admitted = replies.filter((r) => r.type === 'ack').length;
      expect(replies.filter((r) => r.type !== 'ack').every((r) => r.type === 'error' && r.code === 'unauthorized')).toBe(true);
      expect(admitted).toBe(2);
      // The players' count settles at the cap too (past the count's 200 ms coalescing).
      await new Promise((r) => setTimeout(r, 600));
      await host.ok({ type: 'add_cpu' });
      const view = await host.waitForState((v) => v.players.length === 2);
      expect(view.spectators).toBeLessThanOrEqual(2);
      // Once the admitted ones watch, a newcomer on the room's own node is still refused.
      const late = await TestClient.connect(a.port);
      expect(await late.request({ type: 'watch', room: host.room })).toMatchObject({ type: 'error', code: 'unauthorized' });
    } finally {
      await b.drain();
      await a.drain();
    }
  });
});

/** Each (game, sequence)'s last view, as a client holds it. */
function viewsByGameSeq(client: TestClient): Map<string, Frame> {
  const out = new Map<string, Frame>();
  for (const f of client.frames) if (f.type === 'state' || f.type === 'welcome') out.set(`${f.state.game_id}#${f.seq}`, f.state);
  return out;
}

describe('spectators taking patches', () => {
  it('on the room’s node and another, through a game, next_game and the new game: the views they rebuild are the public views, and no patch carries a secret', async () => {
    const base = testConfig();
    configs.push(base);
    const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    try {
      const host = await TestClient.connect(a.port, { patches: true });
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      const onA = await TestClient.connect(a.port, { patches: true });
      const onB = await TestClient.connect(b.port, { patches: true });
      const plain = await TestClient.connect(a.port);
      for (const s of [onA, onB, plain]) await s.ok({ type: 'watch', room: host.room });
      await host.ok({ type: 'start_game' });
      await autoplay(host);
      const first = await host.waitForState((v) => v.phase === 'game_over');
      expect(first.replay_id).toMatch(/^[0-9a-f]{32}$/);
      for (const s of [onA, onB, plain]) await s.waitForState((v) => v.phase === 'game_over');
      await host.ok({ type: 'next_game' });
      await host.waitForState((v) => v.game_id !== first.game_id);
      await autoplay(host);
      const second = await host.waitForState((v) => v.phase === 'game_over' && v.game_id !== first.game_id);
      for (const s of [onA, onB, plain]) await s.waitForState((v) => v.game_id === second.game_id && v.phase === 'game_over');
      await new Promise((r) => setTimeout(r, 300));

      expect(onA.raw.filter((f) => f.type === 'patch').length).toBeGreaterThan(10);
      const reference = viewsByGameSeq(plain);
      for (const s of [onA, onB]) {
        for (const f of s.frames) {
          assertNoSecrets(f);
          if (f.type === 'state' || f.type === 'welcome') expect(f.state).toMatchObject({ you: null, must: null, drawn_card: null, replay_id: null });
        }
        for (const f of s.raw.filter((x) => x.type === 'patch')) {
          const text = JSON.stringify(f.ops);
          expect(text).not.toMatch(/replay_id","value":"|drawn_card","value":\{|"\/you","value":"|token/);
          expect(text).not.toContain(first.replay_id);
          expect(text).not.toContain(second.replay_id);
        }
        let compared = 0;
        for (const [key, view] of viewsByGameSeq(s)) {
          const same = reference.get(key);
          if (!same) continue;
          // The spectator count and presence may differ by a moment between connections.
          const { spectators: _a, players: pa, ...rest } = view;
          const { spectators: _b, players: pb, ...expected } = same;
          expect(rest).toEqual(expected);
          expect(pa.map((p: Frame) => p.cards)).toEqual(pb.map((p: Frame) => p.cards));
          compared++;
        }
        expect(compared).toBeGreaterThan(10);
        expect(s.view.game_id).toBe(second.game_id);
      }
    } finally {
      await b.drain();
      await a.drain();
    }
  });
});
