/** The timing variables of PROTOCOL.md, end to end: CPU_THINK_MS, ROUND_PAUSE_MS, DISCONNECT_GRACE_MS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';

const config = testConfig({ CPU_THINK_MS: '150', ROUND_PAUSE_MS: '400', DISCONNECT_GRACE_MS: '500' });
let node: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  node = await startTestNode(config);
});
afterAll(async () => {
  await node.drain();
  await cleanup(config);
});

describe('timers', () => {
  it('a CPU waits CPU_THINK_MS before each move', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H', options: { initial_flips: 0 } });
    await host.ok({ type: 'add_cpu', profile: 'Marcus' });
    await host.ok({ type: 'start_game' });
    await host.waitForState((v) => v.must === 'draw');
    await host.ok({ type: 'draw', source: 'deck' });
    // Timed from before the turn-ending command is sent: the server's think timer starts after
    // that, so this is a true lower bound however slow the ack is (a shared, loaded machine).
    const turnEnded = Date.now();
    await host.ok({ type: 'discard' });
    await host.waitForState((v) => v.drawn_from !== null || v.current_player_id === host.playerId);
    expect(Date.now() - turnEnded).toBeGreaterThanOrEqual(148);
    await host.close();
  });

  it('a disconnected player\'s turn is played by a CPU after DISCONNECT_GRACE_MS; the seat stays theirs', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H', options: { initial_flips: 0 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
    await host.ok({ type: 'start_game' });
    await host.waitForState((v) => v.must === 'draw');
    host.terminate();
    const left = Date.now();
    await guest.waitForState((v) => v.players[0].connected === false);
    const view = await guest.waitForState((v) => v.current_player_id === guest.playerId, 5000);
    expect(Date.now() - left).toBeGreaterThanOrEqual(450);
    expect(view.players[0].is_cpu).toBe(false);
    // The player comes back and has the seat.
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token: host.token });
    expect(back.view.you).toBe(host.playerId);
  });

  it('the next round starts by itself after ROUND_PAUSE_MS', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H', options: { initial_flips: 0, rounds: 2 } });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
    await host.ok({ type: 'start_game' });
    // Nobody presses "next round": only the timer advances it.
    const over = (v: Frame) => v.phase === 'round_over';
    await Promise.all([playUntil(guest, over, 1), playUntil(host, (v) => over(v) || v.must === null && v.phase === 'round_over')]);
    // Timed from when the client saw the hole end, which is after the server's pause began: the
    // margin absorbs that delivery delay on a loaded machine; a round started at once still fails.
    const endedAt = Date.now();
    const next = await host.waitForState((v) => v.round === 2, 5000);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(200);
    expect(next.phase).not.toBe('round_over');
  });
});
