/**
 * What an append writes to the game's row in PostgreSQL besides its sequence (status, options,
 * players, winners, replay id: queryable without replaying), and which of it a move needs to
 * send: most moves change none of options, players (names, scores) or winners, and the row
 * keeps what it has for those sent as null.
 */
import type { GameState } from '../game/index.js';
import type { AppendRequest, GameStatus } from '../stores/event-store.js';

type Summary = AppendRequest['summary'];
type PlayerSummary = { id: string; name: string; is_cpu: boolean; total_score: number };

export function summaryOf(game: GameState): Summary {
  const status: GameStatus = game.phase === 'lobby' ? 'lobby' : game.phase === 'game_over' ? 'finished' : 'playing';
  return {
    status,
    options: game.options,
    players: game.players.map((p): PlayerSummary => ({ id: p.id, name: p.name, is_cpu: p.is_cpu, total_score: p.total_score })),
    winner_ids: game.winner_ids,
    replay_id: game.replay_id ?? null,
  };
}

function samePlayers(a: readonly PlayerSummary[], b: readonly PlayerSummary[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id || x.name !== y.name || x.is_cpu !== y.is_cpu || x.total_score !== y.total_score) return false;
  }
  return true;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * The summary a room last appended, compared field by field (it used to be compared as JSON,
 * serialised on every move). Options are compared by identity: a game's options are replaced,
 * never changed in place, so the same object is the same options (equal ones under another
 * identity are merely sent again).
 */
export class AppendedSummary {
  private last: Summary | null = null;

  /** `summary` as the append sends it: options, players and winners null when the row holds them already. */
  trim(summary: Summary): Summary {
    const last = this.last;
    if (
      last === null ||
      last.options !== summary.options ||
      !samePlayers(last.players as PlayerSummary[], summary.players as PlayerSummary[]) ||
      !sameIds(last.winner_ids!, summary.winner_ids!)
    )
      return summary;
    return { ...summary, options: null, players: null, winner_ids: null };
  }

  /** The whole summary (untrimmed) is in the row now. */
  appended(summary: Summary): void {
    this.last = summary;
  }
}
