import type { RoomCommand, Timing } from '../../actors/room-machine.js';
import { findPlayer, viewFor, type GameState } from '../game/index.js';
import type { Logger } from '../log.js';
import type { ActiveGame, PgEventStore } from '../stores/event-store.js';
import type { StateCache } from '../stores/state-cache.js';
import type { RemoteReply } from './remote.js';
import type { Outcome } from './room-actor.js';
import { rebuildContext } from './restore.js';
import { hashMatches } from './tokens.js';

/**
 * A game that is over and hosted nowhere shows its final standings without coming back to
 * life: no lease, no epoch, no actor, nothing written. Activating it would cost all of that
 * (and fence nothing), for a state that can no longer change. A game still hosted somewhere
 * is asked there instead, as any room is.
 *
 * Its state comes from the cached snapshot when that is the last word, else from the events.
 */
export async function readEndedGame(cache: StateCache, events: Pick<PgEventStore, 'loadEvents'>, game: ActiveGame, timing: Timing): Promise<GameState> {
  const snapshot = await cache.loadSnapshot(game.game_id);
  const usable = snapshot && snapshot.seq <= game.last_seq ? snapshot : null;
  const later = usable && usable.seq === game.last_seq ? [] : await events.loadEvents(game.game_id, usable?.seq ?? 0);
  return rebuildContext(usable, game.last_seq, later, timing).context.game;
}

/** A seat as a resume names it: its player and its token's hash (the token stays on the gateway). */
export interface SeatClaim {
  player_id: string;
  token_hash: string;
}

/** Resumes into ended games that nobody hosts: their standings, for a valid seat. */
export class EndedGames {
  constructor(
    private readonly cache: StateCache,
    private readonly events: Pick<PgEventStore, 'loadEvents'>,
    private readonly timing: Timing,
    private readonly log: Logger,
  ) {}

  async resume(game: ActiveGame, claim: SeatClaim): Promise<RemoteReply> {
    try {
      return endedSeatView(await readEndedGame(this.cache, this.events, game, this.timing), claim);
    } catch (error) {
      this.log.warn({ room: game.room_code, game_id: game.game_id, player_id: claim.player_id, err: (error as Error).message }, 'reading an ended game failed');
      return { ok: false, code: 'unavailable', message: 'the game could not be read; try again' };
    }
  }
}

/**
 * A command to a game that is over and hosted nowhere: nothing can change. Leaving is done
 * already (there is no seat to free or hand over); anything else is refused.
 */
export function endedCommand(game: ActiveGame, command: RoomCommand): Outcome {
  if (command.type === 'leave') return { ok: true, seq: game.last_seq, duplicate: false };
  return { ok: false, code: 'invalid_move', message: 'the game is over; nothing more can change' };
}

/** A seat's view of an ended game, if the token's hash is the seat's. */
export function endedSeatView(game: GameState, seat: SeatClaim): RemoteReply {
  const player = findPlayer(game, seat.player_id);
  if (!player || !hashMatches(seat.token_hash, player.token_hash)) return { ok: false, code: 'unauthorized', message: 'that token is not valid' };
  return { ok: true, seq: game.seq, duplicate: false, view: viewFor(game, seat.player_id) };
}
