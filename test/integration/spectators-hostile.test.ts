/**
 * Spectators attacked (PROTOCOL.md "Spectators"): the per-room cap holds however the watchers
 * arrive (all at once, through another node), and a spectator's frames stay public.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

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
