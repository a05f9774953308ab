import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

// WS_DEFLATE=on: clients that offer permessage-deflate get it (and play as any other); off (the
// default, test/integration/protocol.test.ts and the rest) nobody does.
let on: Awaited<ReturnType<typeof startTestNode>>;
let off: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  [on, off] = await Promise.all([startTestNode(testConfig({ WS_DEFLATE: 'on' })), startTestNode(testConfig())]);
});
afterAll(async () => {
  await Promise.all([on.drain(), off.drain()]);
  await Promise.all([cleanup(on.config), cleanup(off.config)]);
});

describe('WS_DEFLATE', () => {
  it('on: the extension is negotiated and a game starts and plays over it; off: not negotiated', async () => {
    const host = await TestClient.connect(on.port);
    expect(host.ws.extensions).toContain('permessage-deflate');
    await host.ok({ type: 'create_room', name: 'Host' });
    const guest = await TestClient.connect(on.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.ok({ type: 'start_game' });
    const view = await guest.waitForState((v) => v.phase !== 'lobby');
    expect(view.players).toHaveLength(2);
    await Promise.all([host.close(), guest.close()]);

    const plain = await TestClient.connect(off.port);
    expect(plain.ws.extensions).toBe('');
    await plain.close();
  });
});
