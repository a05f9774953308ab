import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/runtime/room-actor.js';
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

describe('a room job that throws', () => {
  it('is dropped with "nothing changed"; the room and the node carry on', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H' });
    const actor = node.runtime.hosted().find((a) => a.code === host.room)!;
    const before = actor.game;
    // A command the machine has no case for makes the pure step throw (the gateway never sends
    // one; this stands for any bug in a transition).
    const outcome = await new Promise<Outcome>((resolve) => void node.runtime.command(host.room, host.playerId, 'poison-1', { type: 'no_such_command' } as never, resolve));
    expect(outcome).toMatchObject({ ok: false, code: 'unavailable', message: expect.stringMatching(/nothing changed/) });
    expect(actor.game).toBe(before);
    expect(actor.stopped).toBe(false);
    // The room still takes moves, in order.
    await host.ok({ type: 'add_cpu' });
    await host.ok({ type: 'start_game' });
    expect(actor.seq).toBeGreaterThan(before.seq);
    await host.close();
  });
});
