/**
 * The replay API attacked (README "Replays"): every well-formed id costs a PostgreSQL lookup,
 * the pool the rooms append their moves through. Ids that name no replay count as misses of
 * the address (GUESS_LIMIT, as unknown room codes do); past them it gets 429, whatever it asks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

const get = (port: number, id: string) => fetch(`http://127.0.0.1:${port}/api/replays/${id}`);

describe('replay lookups by guess', () => {
  it('an address past GUESS_LIMIT misses is answered 429 (with Retry-After) and costs no lookup; malformed ids are no guesses', async () => {
    const config = testConfig({ GUESS_LIMIT: '3' });
    configs.push(config);
    const a = await startTestNode(config);
    try {
      for (let i = 0; i < 5; i++) expect((await get(a.port, 'not-an-id')).status).toBe(404);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get(a.port, i.toString(16).padStart(32, 'f'))).status);
      expect(statuses).toEqual([404, 404, 404, 429, 429, 429]);
      const limited = await get(a.port, 'e'.repeat(32));
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await limited.json()).toEqual({ error: 'rate_limited' });
    } finally {
      await a.drain();
    }
  });
});

describe('replays of unbounded size', () => {
  it('a game with more events than REPLAY_MAX_EVENTS is answered 413 (too_large) without being loaded', async () => {
    // Rounds have no turn limit: a table that never goes out makes a game of any length.
    const config = testConfig({ REPLAY_MAX_EVENTS: '8' });
    configs.push(config);
    const a = await startTestNode(config);
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      await host.ok({ type: 'start_game' });
      await playUntil(host, () => false);
      const over = await host.waitForState((v) => v.phase === 'game_over');
      expect(over.replay_id).toMatch(/^[0-9a-f]{32}$/);
      const res = await get(a.port, over.replay_id);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'too_large' });
    } finally {
      await a.drain();
    }
  });
});
