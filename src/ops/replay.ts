/**
 * Replaying a game's events with the engine (src/game evolve), step by step, and comparing what
 * comes out with the live snapshot in Redis: the events in PostgreSQL are the truth, and the
 * snapshot must be exactly the fold of them up to its sequence.
 */
import { isDeepStrictEqual } from 'node:util';
import { emptyState, evolve, type GameEvent, type GameState } from '../game/index.js';
import type { EventRecord } from '../stores/event-store.js';
import type { SnapshotRecord } from '../stores/state-cache.js';
import { findGame, snapshotGame, type GameRow } from './inspect.js';
import type { OpsStores } from './stores.js';

export interface ReplayStep {
  seq: number;
  type: string;
  player_id: string | null;
  player: string | null;
  at: Date;
  /** The public state after the event. */
  phase: string;
  round: number;
  turn: string | null;
  scores: Record<string, number>;
}

export interface Fold {
  state: GameState;
  /** The state right after `keepAt` (when the fold got there). */
  kept: GameState | null;
  /** Why the fold stopped early: a gap in the sequence, or an event that does not apply. */
  error: string | null;
}

/** Folds events from the empty state; stops at the first gap or event that does not apply. */
export function fold(events: readonly EventRecord[], keepAt: number | null = null, onStep?: (event: EventRecord, state: GameState) => void): Fold {
  let state = emptyState();
  let kept: GameState | null = keepAt === 0 ? state : null;
  for (const event of events) {
    if (event.seq !== state.seq + 1) return { state, kept, error: `event ${event.seq} follows sequence ${state.seq} (events ${state.seq + 1}..${event.seq - 1} missing)` };
    try {
      state = evolve(state, { type: event.type, player_id: event.player_id, data: event.data } as GameEvent);
    } catch (error) {
      return { state, kept, error: `event ${event.seq} (${event.type}) does not apply: ${(error as Error).message}` };
    }
    if (event.seq === keepAt) kept = state;
    onStep?.(event, state);
  }
  return { state, kept, error: null };
}

/** Where two JSON values differ, as paths (at most `limit`). */
export function differences(a: unknown, b: unknown, path = 'game', out: string[] = [], limit = 8): string[] {
  if (out.length >= limit || isDeepStrictEqual(a, b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`, out, limit);
    }
    return out;
  }
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v).slice(0, 60));
  out.push(`${path}: replay ${show(a)}, snapshot ${show(b)}`);
  return out;
}

export interface Comparison {
  /** The snapshot compared with the replay at its own sequence (write-behind may trail the events). */
  snapshot: { seq: number; epoch: number } | null;
  compared_at: number | null;
  /** null: nothing to compare (no snapshot in Redis). */
  equal: boolean | null;
  differences: string[];
}

/** Compares a snapshot with a fold of the events (which must have been read after it). */
export function compare(events: readonly EventRecord[], snapshot: SnapshotRecord | null): Comparison & { fold: Fold } {
  const result = fold(events, snapshot?.seq ?? null);
  if (!snapshot) return { fold: result, snapshot: null, compared_at: null, equal: null, differences: [] };
  const info = { seq: snapshot.seq, epoch: snapshot.epoch };
  if (!result.kept) {
    const why = result.error && result.state.seq < snapshot.seq ? result.error : `the snapshot is at sequence ${snapshot.seq}, the events end at ${result.state.seq}`;
    return { fold: result, snapshot: info, compared_at: snapshot.seq, equal: false, differences: [why] };
  }
  // JSON both ways: the snapshot went through JSON, so undefined fields are absent there too.
  const replayed = JSON.parse(JSON.stringify(result.kept)) as unknown;
  const live = snapshotGame(snapshot);
  const diff = differences(replayed, live);
  return { fold: result, snapshot: info, compared_at: snapshot.seq, equal: diff.length === 0, differences: diff };
}

export interface ReplayReport extends Comparison {
  game_id: string;
  room: string;
  status: string;
  last_seq: number;
  steps: ReplayStep[];
  /** Why the fold stopped before the last event, if it did. */
  error: string | null;
}

/** Replays a game named by id or room code; null when there is no such game. */
export async function replayGame(stores: OpsStores, ref: string): Promise<ReplayReport | null> {
  const found = await findGame(stores, ref);
  if (!found) return null;
  // The snapshot first, then the events: an event is committed before any snapshot that holds it
  // is written, so events read afterwards always reach the snapshot's sequence.
  const snapshot = await stores.cache.loadSnapshot(found.game_id);
  const game = (await findGame(stores, found.game_id)) as GameRow;
  const events = await stores.events.loadEvents(game.game_id);
  // Names from the games row first: game_created comes before its host's player_joined.
  const names = new Map<string, string>(game.players.map((p) => [p.id, p.name]));
  const steps: ReplayStep[] = [];
  const result = compare(events, snapshot);
  // The steps are folded again with names as players join (a second pass keeps compare() pure).
  fold(events, null, (event, state) => {
    for (const p of state.players) names.set(p.id, p.name);
    const name = (id: string | null) => (id ? (names.get(id) ?? id) : null);
    steps.push({
      seq: event.seq,
      type: event.type,
      player_id: event.player_id,
      player: name(event.player_id),
      at: event.created_at,
      phase: state.phase,
      round: state.round,
      turn: name(state.current_player_id),
      scores: Object.fromEntries(state.players.map((p) => [p.name, p.total_score])),
    });
  });
  const { fold: folded, ...comparison } = result;
  return { game_id: game.game_id, room: game.room_code, status: game.status, last_seq: game.last_seq, steps, error: folded.error, ...comparison };
}
