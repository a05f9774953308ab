/**
 * A client that reconnects sends its resume and, right behind it, what it had queued (the move
 * its dropped socket left unanswered, as the web client and the bots do): those commands act
 * for the seat the resume takes, not refused for coming before it was taken.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

describe('commands sent right behind a resume', () => {
  it('wait for the seat the resume takes, and are applied for it', async () => {
    const config = testConfig();
    configs.push(config);
    const node = await startTestNode(config);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 3 } });
      const back = await TestClient.connect(node.port);
      back.sendRaw(JSON.stringify({ type: 'resume', token: host.token, id: 'resume-1' }));
      const moved = back.request({ type: 'set_options', options: { rounds: 5 } }, 'options-1');
      const synced = back.request({ type: 'sync' }, 'sync-1');
      expect(await back.waitFor((f) => f.id === 'resume-1')).toMatchObject({ type: 'ack' });
      expect(await moved).toMatchObject({ type: 'ack' });
      expect(await synced).toMatchObject({ type: 'ack' });
      expect((await back.waitForState((v) => v.options.rounds === 5)).options.rounds).toBe(5);
      // A resume that fails leaves what follows it refused as before.
      const stranger = await TestClient.connect(node.port);
      stranger.sendRaw(JSON.stringify({ type: 'resume', token: `${host.room}.nobody.${'x'.repeat(30)}`, id: 'resume-2' }));
      expect(await stranger.request({ type: 'set_options', options: { rounds: 7 } })).toMatchObject({ type: 'error', code: 'unauthorized' });
      expect(await stranger.waitFor((f) => f.id === 'resume-2')).toMatchObject({ type: 'error', code: 'unauthorized' });
    } finally {
      await node.drain();
    }
  });
});
