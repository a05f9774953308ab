/** The view as the server sends it (PROTOCOL.md "The view"): the client's only source of truth. */
export interface FaceUpCard {
  rank: string;
  suit: string;
  deck: number;
}
export type Card = (FaceUpCard & { face_up: true }) | { face_up: false; deck: number };

export interface Player {
  id: string;
  name: string;
  is_cpu: boolean;
  cpu_profile: string | null;
  connected: boolean;
  cards: Card[];
  round_score: number | null;
  total_score: number;
  rounds_won: number;
}

export type Phase = 'lobby' | 'initial_flip' | 'playing' | 'final_turn' | 'round_over' | 'game_over';
export type Must = null | 'flip_initial' | 'draw' | 'place' | 'swap' | 'flip' | 'flip_or_skip';

export interface View {
  room: string;
  game_id: string;
  phase: Phase;
  round: number;
  rounds: number;
  options: Record<string, any>;
  host_id: string;
  /** Null for a spectator (and for a replay frame). */
  you: string | null;
  players: Player[];
  current_player_id: string | null;
  deck_count: number;
  discard_top: FaceUpCard | null;
  drawn_card: FaceUpCard | null;
  drawn_from: 'deck' | 'discard' | null;
  finisher_id: string | null;
  turn?: number;
  /** Null for a spectator. */
  must: Must;
  winner_ids: string[];
  /** While a hole is over: when the next one starts by itself (server clock, ms since epoch). */
  next_round_at?: number | null;
  /** How many watch without a seat (PROTOCOL.md "Spectators"). */
  spectators?: number;
  /** Once the game is over, to its seated players: the id of its replay (`?replay=ID`). */
  replay_id?: string | null;
}

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting';
