/**
 * The replay API attacked (README "Replays"): every well-formed id costs a PostgreSQL lookup,
 * the pool the rooms append their moves through. Ids that name no replay count as misses of
 * the address (GUESS_LIMIT, as unknown room codes do); past them it gets 429, whatever it asks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

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
