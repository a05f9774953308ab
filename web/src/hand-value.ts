import { cardValue, columnScore, COLUMNS } from '../../src/game/points.js';
import type { Options } from '../../src/game/options.js';
import type { Card, Player } from './types.js';

/** What a hand shows: its face-up cards' points, and which columns are matched pairs. */
export interface HandValue {
  /** Points of the face-up cards, pairs and visible bonuses counted (what it scores if the rest were 0). */
  showing: number;
  /** Columns (0, 1, 2) whose two cards are face up and of the same rank. */
  matched: number[];
  faceDown: number;
}

export function handValue(player: Player, options: Record<string, any>): HandValue {
  const o = options as Options;
  const cards = player.cards;
  let showing = 0;
  const matched: number[] = [];
  const matchedRanks = new Map<string, number>();
  COLUMNS.forEach(([a, b], column) => {
    const top = cards[a];
    const bottom = cards[b];
    const up = (c: Card | undefined) => (c && c.face_up ? c : null);
    const t = up(top);
    const d = up(bottom);
    if (t && d) {
      showing += columnScore(t as never, d as never, o);
      if (t.rank === d.rank) {
        matched.push(column);
        matchedRanks.set(t.rank, (matchedRanks.get(t.rank) ?? 0) + 1);
      }
    } else if (t) showing += cardValue(t as never, o);
    else if (d) showing += cardValue(d as never, o);
  });
  if (o.wolfpack && (matchedRanks.get('J') ?? 0) >= 2) showing -= 20;
  if (o.four_of_a_kind) for (const count of matchedRanks.values()) if (count >= 2) showing -= 20;
  return { showing, matched, faceDown: cards.filter((c) => !c.face_up).length };
}
