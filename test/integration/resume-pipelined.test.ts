/**
 * A client that reconnects sends `resume` and, right behind it, the move it had in flight (by
 * its id): the move is served once the resume has seated it, not refused for coming a moment
 * early (which made a drained node's players decide their move again: README, "The drain's
 * stalls").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode } from '../support/node.js';

let node: Awaited<ReturnType<typeof startTestNode>>;

beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

describe('a command sent right behind a resume', () => {
  it('is served after the resume (same id applied once), not refused as coming from no seat', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host', options: {} });
    await host.close();
    const back = await TestClient.connect(node.port);
    back.sendRaw(JSON.stringify({ type: 'resume', token: host.token, id: 'r1' }));
    back.sendRaw(JSON.stringify({ type: 'add_cpu', id: 'c1' }));
    const resumed = await back.waitFor((f) => f.id === 'r1' && (f.type === 'ack' || f.type === 'error'));
    const added = await back.waitFor((f) => f.id === 'c1' && (f.type === 'ack' || f.type === 'error'));
    expect(resumed.type).toBe('ack');
    expect(added.type, JSON.stringify(added)).toBe('ack');
    // Sent again by its id (the client not knowing whether it was applied): applied once.
    back.sendRaw(JSON.stringify({ type: 'add_cpu', id: 'c1' }));
    await back.waitFor((f) => f.id === 'c1' && f.type === 'ack', 10_000, back.frames.indexOf(added) + 1);
    const view = await back.waitForState((v) => v.players.length === 2);
    expect(view.players.filter((p: { is_cpu: boolean }) => p.is_cpu)).toHaveLength(1);
    await back.close();
  });
});
