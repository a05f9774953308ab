import type { AppendRequest } from '../stores/event-store.js';

/**
 * What became of an append in doubt (its commit unanswered: a connection reset, PostgreSQL
 * restarted), read from the game's row once the store answers again (RoomActor.settle): its
 * last sequence moved past the append's events under the room's epoch ('in'), or stayed where
 * the append expected it ('out'); another epoch means another node took the game ('fenced');
 * anything else, or no row read, cannot be told ('unknown': the room is restored from
 * PostgreSQL). Only the room appends under its epoch, one job at a time, so the row tells.
 *
 * A transaction still on its way to the server (a link held, a commit waiting on a slow WAL
 * flush) may yet commit after an 'out'. The room's next append that gets an answer then finds
 * the sequence moved on and is fenced. But one in doubt too, at the same sequence and as long,
 * would find the row where its own events would put it: so after an 'out' at a sequence
 * (`outAt`, until an append commits for sure), the row no longer says 'in' there.
 */
export type Verdict = 'in' | 'out' | 'fenced' | 'unknown';

export function verdict(
  row: { last_seq: number; epoch: number } | null,
  request: Pick<AppendRequest, 'expected_seq' | 'events'>,
  epoch: number,
  outAt: number | null,
): Verdict {
  if (!row) return 'unknown';
  if (row.epoch !== epoch) return 'fenced';
  if (row.last_seq === request.expected_seq) return 'out';
  if (row.last_seq === request.expected_seq + request.events.length && outAt !== request.expected_seq) return 'in';
  return 'unknown';
}
