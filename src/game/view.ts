import type { Card } from './cards.js';
import type { Options } from './options.js';
import { findPlayer, isInPlay } from './state.js';
import type { DrawSource, GameState, Phase, PlayerState } from './types.js';

export type CardView = { rank: Card['rank']; suit: Card['suit']; deck: number; face_up: true } | { face_up: false; deck: number };

export interface PlayerView {
  id: string;
  name: string;
  is_cpu: boolean;
  cpu_profile: string | null;
  connected: boolean;
  cards: CardView[];
  round_score: number | null;
  total_score: number;
  rounds_won: number;
}

export type Must = 'flip_initial' | 'draw' | 'place' | 'swap' | 'flip' | 'flip_or_skip' | null;

/** What one seat sees (PROTOCOL.md "The view"). */
export interface GameView {
  room: string;
  game_id: string;
  phase: Phase;
  round: number;
  rounds: number;
  options: Options;
  host_id: string;
  you: string | null;
  players: PlayerView[];
  current_player_id: string | null;
  deck_count: number;
  discard_top: Card | null;
  drawn_card: Card | null;
  drawn_from: DrawSource | null;
  finisher_id: string | null;
  /** Turns completed this round. */
  turn: number;
  must: Must;
  winner_ids: string[];
  /**
   * While a round is over: when the next one starts by itself (ms since the epoch, the room
   * node's clock), for the client's countdown; null otherwise. The room's deadline, not game state.
   */
  next_round_at: number | null;
  /** How many watch the table without a seat (over every node), as the room last counted them. */
  spectators: number;
  /**
   * A finished game's replay id (README "Replays"), shown to its seated players once the game
   * is over; null before, and in a spectator's view.
   */
  replay_id: string | null;
}

/** What the room knows beyond the game state: its pending round deadline. */
export interface RoomTimers {
  next_round_at: number | null;
}

const NO_TIMERS: RoomTimers = { next_round_at: null };

function cardView(card: Card, faceUp: boolean): CardView {
  return faceUp ? { rank: card.rank, suit: card.suit, deck: card.deck, face_up: true } : { face_up: false, deck: card.deck };
}

/** A seat as every viewer sees it (face-down cards hidden). */
export function playerView(player: PlayerState, connected: boolean): PlayerView {
  return {
    id: player.id,
    name: player.name,
    is_cpu: player.is_cpu,
    cpu_profile: player.cpu_profile,
    connected,
    cards: player.hand.map((slot) => cardView(slot.card, slot.face_up)),
    round_score: player.round_score,
    total_score: player.total_score,
    rounds_won: player.rounds_won,
  };
}

export function mustFor(state: GameState, viewerId: string | null): Must {
  const viewer = findPlayer(state, viewerId);
  if (!viewer) return null;
  if (state.phase === 'initial_flip') return viewer.initial_flipped ? null : 'flip_initial';
  if (!isInPlay(state) || state.current_player_id !== viewer.id) return null;
  if (state.pending_flip) return state.pending_flip === 'required' ? 'flip' : 'flip_or_skip';
  if (!state.drawn) return 'draw';
  return state.drawn.source === 'deck' ? 'place' : 'swap';
}

/** The fields of a view that depend on who looks: the seat, what it must do, its drawn card, the replay. */
export type PersonalView = Pick<GameView, 'you' | 'must' | 'drawn_card' | 'replay_id'>;

/** The fields of a view that depend on who looks: the seat, what it must do, its drawn card. */
export function personalView(state: GameState, viewerId: string | null): PersonalView {
  const seated = findPlayer(state, viewerId) !== undefined;
  return {
    you: seated ? viewerId : null,
    must: mustFor(state, viewerId),
    drawn_card: state.drawn && seated && viewerId === state.current_player_id ? state.drawn.card : null,
    replay_id: seated && state.phase === 'game_over' ? (state.replay_id ?? null) : null,
  };
}

/**
 * The view for `viewerId` (null: a spectator's view). Face-down cards show only their deck,
 * the deck's order never appears, and the drawn card shows only to the player holding it.
 * `spectators` is the room's count of watchers without a seat (runtime data, like `connected`).
 */
export function viewFor(state: GameState, viewerId: string | null, connected: ReadonlySet<string> = new Set(), timers: RoomTimers = NO_TIMERS, spectators = 0): GameView {
  const { you, must, drawn_card, replay_id } = personalView(state, viewerId);
  return {
    room: state.room,
    game_id: state.game_id,
    phase: state.phase,
    round: state.round,
    rounds: state.options.rounds,
    options: { ...state.options },
    host_id: state.host_id,
    you,
    players: state.players.map((player: PlayerState) => playerView(player, player.is_cpu || connected.has(player.id))),
    current_player_id: state.current_player_id,
    deck_count: state.deck.length,
    discard_top: state.discard[state.discard.length - 1] ?? null,
    drawn_card,
    drawn_from: state.drawn ? state.drawn.source : null,
    finisher_id: state.finisher_id,
    turn: state.turn,
    must,
    winner_ids: state.winner_ids.slice(),
    next_round_at: state.phase === 'round_over' ? timers.next_round_at : null,
    spectators,
    replay_id,
  };
}
