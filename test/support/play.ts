import { simulationRng } from '../../src/ai/selfplay.js';
import { expect } from 'vitest';
import { chooseCpuMove, CPU_PROFILES } from '../../src/ai/index.js';
import type { TestClient, Frame } from './client.js';

/** Checks that a frame shows no secret: face-down cards, another's drawn card, deck order, tokens of others. */
export function assertNoSecrets(frame: Frame, ownToken?: string): void {
  if (frame.type !== 'state' && frame.type !== 'welcome') return;
  const view = frame.state;
  for (const player of view.players) {
    for (const card of player.cards) {
      if (!card.face_up) {
        expect(card).not.toHaveProperty('rank');
        expect(card).not.toHaveProperty('suit');
      }
    }
  }
  if (view.drawn_card !== null) expect(view.you).toBe(view.current_player_id);
  const text = JSON.stringify(frame);
  expect(text).not.toMatch(/"deck":\s*\[/);
  expect(text).not.toMatch(/token_hash|"shoe"|reshuffled|entropy/);
  const tokens = text.match(/[A-Z]{4}\.[\w-]+\.[\w-]{20,}/g) ?? [];
  for (const token of tokens) expect(token).toBe(ownToken);
}

/** Plays a seat with the CPU logic over the wire until the game is over. */
export function autoplay(client: TestClient, profileIndex = 0): Promise<void> {
  return playUntil(client, () => false, profileIndex);
}

/**
 * Plays a seat with the CPU logic until `until(view)` holds (checked before each move), or the
 * game is over. The host also starts the next round when a round is over.
 */
export async function playUntil(client: TestClient, until: (view: Frame) => boolean, profileIndex = 0): Promise<void> {
  const profile = CPU_PROFILES[profileIndex % CPU_PROFILES.length]!;
  for (let step = 0; step < 5000; step++) {
    const view = client.view;
    if (until(view) || view.phase === 'game_over') return;
    if (view.must || (view.phase === 'round_over' && view.host_id === view.you)) {
      const move = view.must ? chooseCpuMove(view as never, profile, simulationRng('play', client.seq, step)) : { type: 'next_round' as const };
      if (!move) throw new Error(`no move for must=${view.must}`);
      const reply = await client.request(move);
      if (reply.type === 'error') {
        // Another seat's action (or the round timer) may have moved the game on meanwhile.
        if (reply.code === 'invalid_move' || reply.code === 'not_your_turn' || reply.code === 'rate_limited') {
          await new Promise((r) => setTimeout(r, reply.code === 'rate_limited' ? 200 : 20));
          continue;
        }
        throw new Error(`${move.type} refused: ${reply.code} ${reply.message}`);
      }
      await client.waitFor((f: Frame) => (f.type === 'state' || f.type === 'welcome') && f.seq >= reply.seq, 10_000, 0);
      continue;
    }
    const seq = client.seq;
    const from = client.frames.length;
    await client.waitFor((f: Frame) => f.type === 'state' && (f.seq > seq || f.state.must !== view.must || f.state.phase !== view.phase), 20_000, from);
  }
  throw new Error('did not reach the wanted state');
}
