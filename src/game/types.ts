import type { Card } from './cards.js';
import type { Options, PartialOptions } from './options.js';

export type Phase = 'lobby' | 'initial_flip' | 'playing' | 'final_turn' | 'round_over' | 'game_over';

export interface Slot {
  card: Card;
  face_up: boolean;
}

export interface PlayerState {
  id: string;
  name: string;
  is_cpu: boolean;
  cpu_profile: string | null;
  /** sha256 of the seat's resume token (never the token itself; never in a view). */
  token_hash: string | null;
  /** True once a human left mid-game and a CPU took the seat over. */
  replaced: boolean;
  hand: Slot[];
  initial_flipped: boolean;
  round_score: number | null;
  total_score: number;
  rounds_won: number;
}

export interface GameState {
  game_id: string;
  room: string;
  host_id: string;
  options: Options;
  phase: Phase;
  round: number;
  /** Decks in the shoe, fixed at game start. */
  decks: number;
  first_player_id: string | null;
  /** How many times the discard pile was shuffled back this round. */
  reshuffles: number;
  players: PlayerState[];
  /** The draw pile; its top is the last element. Never leaves the server. */
  deck: Card[];
  /** The discard pile; its top is the last element. */
  discard: Card[];
  current_player_id: string | null;
  drawn: { card: Card; source: 'deck' | 'discard' } | null;
  /** After a discard: whether the current player must flip or may flip. */
  pending_flip: 'required' | 'optional' | null;
  finisher_id: string | null;
  /** Turns completed this round (public: anyone at the table can count them). */
  turn: number;
  winner_ids: string[];
  /**
   * The unguessable id of this game's replay (README "Replays"): 128 bits drawn from the
   * entropy of the move that ended the game, so nobody can derive it from the code or the
   * game id. Null until the game is over (and in games that ended before replays existed).
   */
  replay_id: string | null;
  /** Number of events applied: the room's sequence. */
  seq: number;
}

export type DrawSource = 'deck' | 'discard';

/** Domain events, as stored in the event log (DESIGN.md's event types). */
export type GameEvent =
  | {
      type: 'game_created';
      player_id: string;
      /**
       * `carried_ids`: in a game started with `next_game`, the command ids each seat used in the
       * game before, as the room remembers them (`[id, seq, fingerprint]`): not game state, but
       * stored here so that a restore from the events alone still knows a retry from before.
       */
      data: { game_id: string; room: string; options: Options; carried_ids?: Record<string, Array<[string, number, string?]>> };
    }
  | {
      type: 'player_joined';
      player_id: string;
      data: { name: string; is_cpu: boolean; cpu_profile: string | null; token_hash: string | null };
    }
  | { type: 'player_left'; player_id: string; data: { removed_by: string | null; cpu_profile: string | null } }
  | { type: 'options_set'; player_id: string; data: { options: Options } }
  | { type: 'game_started'; player_id: string; data: { decks: number } }
  /** `shoe`: the round's shuffled cards, dealt from its end (server-side only, like every event). */
  | { type: 'round_started'; player_id: null; data: { round: number; first_player_id: string; shoe: Card[] } }
  | { type: 'initial_flip'; player_id: string; data: { positions: number[] } }
  /** `reshuffled`: the new deck when this draw emptied it and the discard pile was shuffled back. */
  | { type: 'card_drawn'; player_id: string; data: { source: DrawSource; card: Card; reshuffled?: Card[] } }
  | { type: 'card_swapped'; player_id: string; data: { position: number; card: Card; replaced: Card } }
  | { type: 'card_discarded'; player_id: string; data: { card: Card } }
  | { type: 'card_flipped'; player_id: string; data: { position: number; card: Card } }
  | { type: 'flip_skipped'; player_id: string; data: Record<string, never> }
  | { type: 'flip_as_action'; player_id: string; data: { position: number; card: Card } }
  | { type: 'knock_early'; player_id: string; data: { positions: number[] } }
  | {
      type: 'round_ended';
      player_id: null;
      data: { round: number; scores: Record<string, number>; round_winner_ids: string[] };
    }
  | { type: 'game_ended'; player_id: null; data: { winner_ids: string[]; totals: Record<string, number>; replay_id?: string } };

export type GameEventType = GameEvent['type'];

/** Commands, already authenticated: `by` is the acting seat. Randomness arrives beside them (see decide). */
export type GameCommand =
  | { type: 'create_game'; game_id: string; room: string; host: SeatSpec; options: PartialOptions }
  | { type: 'join'; seat: SeatSpec }
  | { type: 'add_cpu'; by: string; seat: SeatSpec }
  | { type: 'remove_player'; by: string; player_id: string }
  | { type: 'set_options'; by: string; options: PartialOptions }
  | { type: 'start_game'; by: string }
  | { type: 'leave'; by: string; cpu_profile: string }
  | { type: 'flip_initial'; by: string; positions: number[] }
  | { type: 'draw'; by: string; source: DrawSource }
  | { type: 'swap'; by: string; position: number }
  | { type: 'discard'; by: string }
  | { type: 'flip'; by: string; position: number }
  | { type: 'skip_flip'; by: string }
  | { type: 'flip_action'; by: string; position: number }
  | { type: 'knock_early'; by: string }
  | { type: 'next_round'; by: string | null };

export interface SeatSpec {
  id: string;
  name: string;
  is_cpu: boolean;
  cpu_profile: string | null;
  token_hash: string | null;
}

/** Why a command was refused; the codes are PROTOCOL.md's. */
export type RefusalCode =
  | 'bad_request'
  | 'room_full'
  | 'game_in_progress'
  | 'not_host'
  | 'not_your_turn'
  | 'invalid_move'
  | 'unauthorized';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

/**
 * `state`: the state the events lead to, when the decider folded them itself (`decide` does, to
 * see whether a round ends): the caller need not fold them again. Exactly `events.reduce(evolve, state)`.
 */
export type Decision = { ok: true; events: GameEvent[]; state?: GameState } | { ok: false; refusal: Refusal };

export const MAX_PLAYERS = 6;
export const MIN_PLAYERS = 2;
