/**
 * A finished game's frames for the replay page: its events folded with the engine itself
 * (src/game's evolve, the code the server runs), one frame per event, every hand face up (a
 * finished game has no secrets left), each with what its event did in words. No DOM here.
 */
import { emptyState, evolve } from '../../src/game/evolve.js';
import type { GameEvent, GameState } from '../../src/game/types.js';
import { viewFor } from '../../src/game/view.js';
import { cardShort } from './cards.js';
import type { View } from './types.js';

export interface ReplayFrame {
  view: View;
  /** What the event that led here did, in words. */
  said: string;
}

/** The state after each event, as a view with every hand face up. */
export function foldFrames(events: GameEvent[]): ReplayFrame[] {
  const frames: ReplayFrame[] = [];
  let state: GameState = emptyState();
  for (const event of events) {
    state = evolve(state, event);
    frames.push({ view: revealed(state), said: describe(state, event) });
  }
  return frames;
}

function revealed(state: GameState): View {
  const view = viewFor(state, null) as unknown as View;
  view.players = view.players.map((p, i) => ({ ...p, cards: state.players[i]!.hand.map((slot) => ({ ...slot.card, face_up: true as const })) }));
  return view;
}

function describe(state: GameState, event: GameEvent): string {
  const who = state.players.find((p) => p.id === event.player_id)?.name ?? 'Someone';
  switch (event.type) {
    case 'game_created':
      return `${who} opens room ${state.room}`;
    case 'player_joined':
      return `${who} sits down`;
    case 'player_left':
      return `${who} leaves`;
    case 'options_set':
      return 'The host changes the options';
    case 'game_started':
      return 'The game starts';
    case 'round_started':
      return `Hole ${event.data.round} is dealt`;
    case 'initial_flip':
      return `${who} turns up ${event.data.positions.length === 1 ? 'a card' : `${event.data.positions.length} cards`}`;
    case 'card_drawn':
      return `${who} draws the ${cardShort(event.data.card)} from the ${event.data.source === 'deck' ? 'deck' : 'discard pile'}`;
    case 'card_swapped':
      return `${who} keeps the ${cardShort(event.data.card)} and throws away the ${cardShort(event.data.replaced)}`;
    case 'card_discarded':
      return `${who} throws away the ${cardShort(event.data.card)}`;
    case 'card_flipped':
    case 'flip_as_action':
      return `${who} turns up the ${cardShort(event.data.card)}`;
    case 'flip_skipped':
      return `${who} turns up nothing`;
    case 'knock_early':
      return `${who} knocks`;
    case 'round_ended':
      return `Hole ${event.data.round} is over`;
    case 'game_ended':
      return 'The game is over';
  }
}
