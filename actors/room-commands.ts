import type { DrawSource, PartialOptions } from '../src/game/index.js';

/**
 * A player's command as the room machine takes it: the wire command, validated by the gateway,
 * without its envelope. Seat-granting commands carry what the runtime generated for the new
 * seat (ids and token hashes are randomness, so they come in from outside).
 */
export type RoomCommand =
  | { type: 'create_room'; name: string; options: PartialOptions; game_id: string; room: string; token_hash: string }
  | { type: 'join_room'; name: string; token_hash: string }
  | { type: 'add_cpu'; profile: string | null; new_player_id: string }
  | { type: 'remove_player'; player_id: string }
  | { type: 'set_options'; options: PartialOptions }
  | { type: 'start_game' }
  | { type: 'flip_initial'; positions: number[] }
  | { type: 'draw'; source: DrawSource }
  | { type: 'swap'; position: number }
  | { type: 'discard' }
  | { type: 'flip'; position: number }
  | { type: 'skip_flip' }
  | { type: 'flip_action'; position: number }
  | { type: 'knock_early' }
  | { type: 'next_round' }
  | { type: 'leave' };
