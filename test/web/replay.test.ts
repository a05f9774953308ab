/**
 * The replay page's fold (web/src/replay-frames.ts): the browser folds a finished game's events with
 * the engine itself, one frame per event, every hand face up; the last frame is the game's
 * final state, and every event is told in words.
 */
import { describe, expect, it } from 'vitest';
import { playCpuGame, randomOptions } from '../../src/ai/selfplay.js';
import { viewFor } from '../../src/game/index.js';
import { foldFrames } from '../../web/src/replay-frames.js';

describe('replay frames', () => {
  for (const seed of [1, 2, 3]) {
    it(`game ${seed}: one frame per event, every card shown, the last one the final state`, () => {
      const { state, events } = playCpuGame(seed, 2 + (seed % 4), { ...randomOptions(seed), rounds: 2 });
      const frames = foldFrames(events);
      expect(frames).toHaveLength(events.length);
      const final = frames.at(-1)!.view;
      const live = viewFor(state, null);
      expect({ ...final, players: final.players.map((p) => ({ ...p, cards: [] })) }).toEqual({ ...live, players: live.players.map((p) => ({ ...p, cards: [] })) });
      expect(final.players.map((p) => p.cards)).toEqual(state.players.map((p) => p.hand.map((slot) => ({ ...slot.card, face_up: true }))));
      expect(final.phase).toBe('game_over');
      for (const frame of frames) {
        expect(frame.said).toMatch(/\w/);
        expect(frame.said).not.toMatch(/undefined/);
        if (frame.view.phase !== 'lobby') for (const p of frame.view.players) expect(p.cards.every((c) => c.face_up)).toBe(true);
      }
    });
  }
});
