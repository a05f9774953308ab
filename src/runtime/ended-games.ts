import type { Timing } from '../../actors/room-machine.js';
import { findPlayer, viewFor, type GameState } from '../game/index.js';
import type { ActiveGame, PgEventStore } from '../stores/event-store.js';
import type { StateCache } from '../stores/state-cache.js';
import type { RemoteReply } from './remote.js';
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

/** A seat's view of an ended game, if the token's hash is the seat's. */
export function endedSeatView(game: GameState, seat: { player_id: string; token_hash: string }): RemoteReply {
  const player = findPlayer(game, seat.player_id);
  if (!player || !hashMatches(seat.token_hash, player.token_hash)) return { ok: false, code: 'unauthorized', message: 'that token is not valid' };
  return { ok: true, seq: game.seq, duplicate: false, view: viewFor(game, seat.player_id) };
}
