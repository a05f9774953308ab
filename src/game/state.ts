import type { GameState, PlayerState, Slot } from './types.js';

/**
 * The start of evolve's copy-on-write: a new top level and seat list, everything else shared
 * with the input (options, piles, the drawn card, winners and every player are replaced, never
 * changed in place). evolve copies a player with ownPlayer and a pile before it changes it, so
 * an event copies only what it touches: less garbage per move, and unchanged parts keep their
 * identity (the snapshot encoder reuses their JSON).
 */
export function cloneState(state: GameState): GameState {
  return { ...state, players: state.players.slice() };
}

/** A copy of the seat at `index` (and its hand) that evolve may change, put in its place. */
export function ownPlayer(state: GameState, index: number): PlayerState {
  const copy = clonePlayer(state.players[index] as PlayerState);
  state.players[index] = copy;
  return copy;
}

export function clonePlayer(player: PlayerState): PlayerState {
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
