import type { GameState, PlayerState, Slot } from './types.js';

/** Copies what evolve mutates; cards themselves are immutable and shared. */
export function cloneState(state: GameState): GameState {
  return {
    ...state,
    options: { ...state.options },
    players: state.players.map(clonePlayer),
    deck: state.deck.slice(),
    discard: state.discard.slice(),
    drawn: state.drawn ? { ...state.drawn } : null,
    winner_ids: state.winner_ids.slice(),
  };
}

function clonePlayer(player: PlayerState): PlayerState {
  return { ...player, hand: player.hand.map((slot): Slot => ({ ...slot })) };
}

export function findPlayer(state: GameState, id: string | null): PlayerState | undefined {
  return id === null ? undefined : state.players.find((player) => player.id === id);
}

export function faceDownCount(player: PlayerState): number {
  return player.hand.filter((slot) => !slot.face_up).length;
}

export function humanCount(state: GameState): number {
  return state.players.filter((player) => !player.is_cpu).length;
}

export function isInPlay(state: GameState): boolean {
  return state.phase === 'playing' || state.phase === 'final_turn';
}
