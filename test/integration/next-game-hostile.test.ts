/**
 * `next_game` attacked (PROTOCOL.md): only the host, only at game over; a spectator or another
 * player cannot; and a human who left the finished game (a CPU took the seat) has no way into
 * the next one with their old token.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { autoplay } from '../support/play.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

describe('next_game by the wrong people', () => {
  it('a player mid-game, a non-host, a spectator are refused; the token of a player who left does not open the new game', async () => {
    const config = testConfig();
    configs.push(config);
    const a = await startTestNode(config);
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(a.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      const quitter = await TestClient.connect(a.port);
      await quitter.ok({ type: 'join_room', room: host.room, name: 'Quitter' });
      const spectator = await TestClient.connect(a.port);
      await spectator.ok({ type: 'watch', room: host.room });
      await host.ok({ type: 'start_game' });
      expect(await host.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'invalid_move' });
      const oldToken = quitter.token;
      await quitter.ok({ type: 'leave' });
      await Promise.all([autoplay(host), autoplay(guest, 1)]);
      const over = await host.waitForState((v) => v.phase === 'game_over');
      expect(await guest.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'not_host' });
      expect(await spectator.request({ type: 'next_game' })).toMatchObject({ type: 'error', code: 'unauthorized' });
      const late = await TestClient.connect(a.port);
      expect(await late.request({ type: 'resume', token: oldToken })).toMatchObject({ type: 'error', code: 'unauthorized' });

      await host.ok({ type: 'next_game' });
      const next = await host.waitForState((v) => v.game_id !== over.game_id);
      expect(next.players.find((p: { name: string }) => p.name === 'Quitter')).toMatchObject({ is_cpu: true });
      const again = await TestClient.connect(a.port);
      expect(await again.request({ type: 'resume', token: oldToken })).toMatchObject({ type: 'error', code: 'unauthorized' });
      // The guest's token opens the new game (the same seat).
      const back = await TestClient.connect(a.port);
      await back.ok({ type: 'resume', token: guest.token });
      expect(back.view.game_id).toBe(next.game_id);
    } finally {
      await a.drain();
    }
  });
});
