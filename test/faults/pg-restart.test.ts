/**
 * After PostgreSQL restarts, rooms are playable again within about a second of it answering:
 * nothing waits for a long reconnection backoff (postgres.js's default grows to 20 s over the
 * failed attempts of an outage) or on a connection that died with the server.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { ThrowawayPostgres } from '../support/throwaway.js';

let pg: ThrowawayPostgres | null = null;
afterAll(() => pg?.destroy());

describe('PostgreSQL restarts', () => {
  it('rooms are playable within about a second of PostgreSQL answering again, after an outage of several seconds', async () => {
    pg = await ThrowawayPostgres.start();
    const config = testConfig({ DATABASE_URL: pg.url, PG_QUERY_TIMEOUT_MS: '2000' });
    const node = await startTestNode(config);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'H' });
      const rounds = (i: number) => ({ type: 'set_options', options: { rounds: 1 + (i % 9) } });
      let i = 0;
      expect(await host.request(rounds(i++))).toMatchObject({ type: 'ack' });
      pg.stop();
      // Players keep trying during the outage: every move fails (and so does a connection attempt).
      let failed = 0;
      const outageEnds = Date.now() + 8000;
      while (Date.now() < outageEnds) {
        const reply = await host.request(rounds(i++));
        expect(reply).toMatchObject({ type: 'error', code: 'unavailable' });
        failed++;
        await new Promise((r) => setTimeout(r, 250));
      }
      pg.startServer();
      const probe = postgres(pg.url, { max: 1, onnotice: () => {} });
      await probe`select 1`;
      await probe.end();
      const answering = performance.now();
      let reply;
      let attempts = 0;
      do {
        attempts++;
        reply = await host.request(rounds(i++));
        if (reply.type !== 'ack') await new Promise((r) => setTimeout(r, 50));
      } while (reply.type !== 'ack' && performance.now() - answering < 30_000);
      const ms = performance.now() - answering;
      process.stdout.write(`PostgreSQL restarted after ${failed} failed moves: the room played again ${ms.toFixed(0)} ms after PostgreSQL answered (${attempts} attempts)\n`);
      expect(reply).toMatchObject({ type: 'ack' });
      expect(ms).toBeLessThan(3000);
    } finally {
      await node.drain();
      await cleanup(config);
    }
  });
});
