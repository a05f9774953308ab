/**
 * The replay API (README "Replays"): a finished game's events by its replay id, for any
 * program to fold with the engine (`src/game` evolve, as the web client does) into every state
 * the game went through. Nothing in a finished game is hidden any more (every hand was shown
 * at its last round), except the seats' token hashes, which are left out.
 */
import type { ServerResponse } from 'node:http';
import type { GameEvent } from '../game/index.js';
import type { FinishedGame } from '../stores/event-store.js';

/** A replay id: 128 bits as 32 lowercase hex digits (see randomId128). */
export const REPLAY_ID = /^[0-9a-f]{32}$/;

/** Where the API answers: `GET /api/replays/{replay_id}`. */
export const REPLAY_PATH = /^\/api\/replays\/([^/]+)$/;

export interface ReplayEvent {
  seq: number;
  type: GameEvent['type'];
  player_id: string | null;
  data: unknown;
  /** When the event was stored (ISO 8601). */
  at: string;
}

export interface ReplayDocument {
  replay_id: string;
  room: string;
  game_id: string;
  ended_at: string | null;
  events: ReplayEvent[];
}

/** The replay of a finished game, as served: its events in order, without token hashes. */
export function replayDocument(replayId: string, game: FinishedGame): ReplayDocument {
  return {
    replay_id: replayId,
    room: game.room_code,
    game_id: game.game_id,
    ended_at: game.ended_at ? new Date(game.ended_at).toISOString() : null,
    events: game.events.map((e) => ({
      seq: e.seq,
      type: e.type,
      player_id: e.player_id,
      data: e.type === 'player_joined' ? { ...(e.data as object), token_hash: null } : e.data,
      at: new Date(e.created_at).toISOString(),
    })),
  };
}

/**
 * The lookups an address may still make: each well-formed id costs a PostgreSQL query (on the
 * pool the rooms append through), and one that names no replay is a miss of the address like
 * an unknown room code (GUESS_LIMIT). Taken before the lookup (lookups sent together count),
 * given back when the id named a replay or the store failed.
 */
export interface ReplayGuesses {
  take(): boolean;
  refund(): void;
  /** What a refused client is told to wait (Retry-After). */
  retryAfterSeconds: number;
}

/** Replays being loaded and built at once on this node (each holds a whole game in memory). */
export class ReplayLoads {
  private n = 0;
  constructor(private readonly max: number) {}
  take(): boolean {
    if (this.n >= this.max) return false;
    this.n++;
    return true;
  }
  release(): void {
    this.n--;
  }
}

const UNLIMITED: ReplayGuesses = { take: () => true, refund: () => {}, retryAfterSeconds: 0 };

/**
 * Answers `GET /api/replays/{id}`: 200 with the document; 404 for an id that is malformed,
 * names no game, or names a game that is not finished (the same answer for all three, so
 * the API tells nobody whether a game exists); 429 for an address past its misses (whatever
 * the id names); 503 when the store cannot answer.
 */
export async function serveReplay(
  id: string,
  find: (replayId: string) => Promise<FinishedGame | 'too_large' | null>,
  res: ServerResponse,
  guesses: ReplayGuesses = UNLIMITED,
  loads: ReplayLoads = new ReplayLoads(Number.POSITIVE_INFINITY),
): Promise<void> {
  const json = (status: number, body: unknown, cache = 'no-store', headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': cache, ...headers }).end(JSON.stringify(body));
  };
  if (!REPLAY_ID.test(id)) return json(404, { error: 'not_found' });
  if (!guesses.take()) return json(429, { error: 'rate_limited' }, 'no-store', { 'retry-after': String(guesses.retryAfterSeconds) });
  // A found replay is no miss, so its lookups are not rated: how many are built at once is.
  if (!loads.take()) {
    guesses.refund();
    return json(503, { error: 'busy' }, 'no-store', { 'retry-after': '1' });
  }
  let game: FinishedGame | 'too_large' | null;
  try {
    game = await find(id);
  } catch {
    guesses.refund();
    return json(503, { error: 'unavailable' });
  } finally {
    loads.release();
  }
  if (!game) return json(404, { error: 'not_found' });
  guesses.refund();
  if (game === 'too_large') return json(413, { error: 'too_large' });
  // A finished game never changes; the link is a secret of its holders (private caches only).
  return json(200, replayDocument(id, game), 'private, max-age=3600');
}
