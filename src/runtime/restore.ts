import { plan, rememberCommand, type RoomContext, type Timing, initialRoomContext } from '../../actors/room-machine.js';
import { evolve, type GameEvent } from '../game/index.js';
import type { EventRecord } from '../stores/event-store.js';
import type { SnapshotRecord } from '../stores/state-cache.js';

export type RestoreSource = 'snapshot' | 'snapshot+events' | 'events';

export class CorruptGameError extends Error {
  override name = 'CorruptGameError';
}

/**
 * Rebuilds a room's context from what the stores hold (DESIGN.md "failover"): the cached
 * snapshot when its sequence matches the last event in PostgreSQL; the snapshot plus the
 * later events when it is behind; the events alone when the cache has nothing usable.
 *
 * `events` must be the events after the snapshot's sequence (or all of them when there is
 * no usable snapshot). Deadlines are re-planned from the time of the last event, so a CPU's
 * or a round's timer picks up where it stood.
 */
export function rebuildContext(
  snapshot: SnapshotRecord | null,
  lastSeq: number,
  events: readonly EventRecord[],
  timing: Timing,
): { context: RoomContext; source: RestoreSource } {
  const usable = snapshot && snapshot.seq <= lastSeq ? snapshot : null;
  let context: RoomContext = usable ? { ...(usable.snapshot as { context: RoomContext }).context, connected: [] } : initialRoomContext(timing);
  const source: RestoreSource = !usable ? 'events' : usable.seq === lastSeq ? 'snapshot' : 'snapshot+events';
  const pending = usable ? events.filter((e) => e.seq > usable.seq) : events;
  let lastAt: number | null = null;
  for (const record of pending) {
    if (record.seq !== context.game.seq + 1) {
      throw new CorruptGameError(`event ${record.seq} of ${record.game_id} follows sequence ${context.game.seq}`);
    }
    let game;
    try {
      game = evolve(context.game, { type: record.type, player_id: record.player_id, data: record.data } as GameEvent);
    } catch (error) {
      throw new CorruptGameError(`event ${record.seq} of ${record.game_id}: ${(error as Error).message}`);
    }
    // The id is the sender's (older rows have no sender_id: then the event's player, as before).
    const sender = record.sender_id ?? record.player_id;
    let applied = context.applied;
    // A game started with next_game carries the seats' ids of the game before (see onNextGame).
    const carried = record.type === 'game_created' ? (record.data as Extract<GameEvent, { type: 'game_created' }>['data']).carried_ids : undefined;
    for (const [playerId, ids] of Object.entries(carried ?? {})) {
      for (const [id, seq, fp] of ids) applied = rememberCommand(applied, playerId, id, seq, fp);
    }
    if (sender && record.command_id) applied = rememberCommand(applied, sender, record.command_id, record.seq, record.command_fp ?? undefined);
    context = { ...context, game, applied };
    lastAt = new Date(record.created_at).getTime();
  }
  if (context.game.seq !== lastSeq) {
    throw new CorruptGameError(`rebuilt sequence ${context.game.seq} but the store's last is ${lastSeq}`);
  }
  if (lastAt !== null) context = plan(context, lastAt);
  return { context, source };
}

/**
 * Of the events read alongside a room's epoch claim (`early`: those after `readAfter`, as far as
 * PostgreSQL had them then), the ones it needs after `from` (its usable snapshot's sequence, 0
 * without one) through the claim's `lastSeq`; and where reading must go on (`resumeAfter`), or
 * null when nothing is missing. The old owner may have committed after that read and before
 * the claim fenced it; and a snapshot found unusable (ahead of the claim) needs every event.
 */
export function earlyEvents(early: readonly EventRecord[], readAfter: number, from: number, lastSeq: number): { events: EventRecord[]; resumeAfter: number | null } {
  if (from >= lastSeq) return { events: [], resumeAfter: null };
  const events = readAfter === from ? early.filter((e) => e.seq <= lastSeq) : [];
  const through = events.length > 0 ? events[events.length - 1]!.seq : from;
  return { events, resumeAfter: through < lastSeq ? through : null };
}
