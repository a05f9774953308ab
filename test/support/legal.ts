import { faceDownCount, findPlayer, type GameCommand, type GameState } from '../../src/game/index.js';

/** The seat that may act now (the first one yet to flip in the initial flip phase). */
export function actorOf(state: GameState): string | null {
  if (state.phase === 'initial_flip') return state.players.find((p) => !p.initial_flipped)?.id ?? null;
  if (state.phase === 'playing' || state.phase === 'final_turn') return state.current_player_id;
  return null;
}

/** Every legal in-game command for the seat that may act (used to play random games). */
export function legalCommands(state: GameState): GameCommand[] {
  const by = actorOf(state);
  if (state.phase === 'round_over') return [{ type: 'next_round', by: null }];
  if (!by) return [];
  const player = findPlayer(state, by)!;
  const down = player.hand.flatMap((slot, i) => (slot.face_up ? [] : [i]));
  if (state.phase === 'initial_flip') {
    const n = state.options.initial_flips;
    const out: GameCommand[] = [];
    for (let a = 0; a < 6; a++) {
      if (n === 1) out.push({ type: 'flip_initial', by, positions: [a] });
      else for (let b = a + 1; b < 6; b++) out.push({ type: 'flip_initial', by, positions: [a, b] });
    }
    return out;
  }
  if (state.pending_flip) {
    const flips: GameCommand[] = down.map((position) => ({ type: 'flip', by, position }));
    return state.pending_flip === 'optional' ? [...flips, { type: 'skip_flip', by }] : flips;
  }
  if (state.drawn) {
    const swaps: GameCommand[] = [0, 1, 2, 3, 4, 5].map((position) => ({ type: 'swap', by, position }));
    return state.drawn.source === 'deck' ? [...swaps, { type: 'discard', by }] : swaps;
  }
  const out: GameCommand[] = [];
  if (state.deck.length > 0) out.push({ type: 'draw', by, source: 'deck' });
  if (state.discard.length > 0) out.push({ type: 'draw', by, source: 'discard' });
  if (state.options.flip_as_action) for (const position of down) out.push({ type: 'flip_action', by, position });
  const n = faceDownCount(player);
  if (state.options.knock_early && n >= 1 && n <= 2) out.push({ type: 'knock_early', by });
  return out;
}
