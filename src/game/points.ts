import type { Rank, Suit } from './cards.js';
import type { Options } from './options.js';

/*
 * Card and hand points under the rules in play. No runtime imports: the browser client uses
 * this file too (to show a hand's running value), and it must not pull in the server's schemas.
 */

export interface ScoredCard {
  rank: Rank;
  suit: Suit;
}

/** Grid columns: positions 0 1 2 on top, 3 4 5 below. */
export const COLUMNS: ReadonlyArray<readonly [number, number]> = [
  [0, 3],
  [1, 4],
  [2, 5],
];

export function partnerOf(position: number): number {
  return position < 3 ? position + 3 : position - 3;
}

/**
 * A card's points under the rules in play, as it would count unpaired.
 * With `eagle_eye` an unpaired Joker counts +2 (this takes precedence over `lucky_swing`,
 * which is about the Joker's value as a negative card).
 */
export function cardValue(card: ScoredCard, options: Options): number {
  switch (card.rank) {
    case 'A':
      return 1;
    case '2':
      return -2;
    case '10':
      return options.ten_penny ? 1 : 10;
    case 'J':
      return options.one_eyed_jacks && (card.suit === 'hearts' || card.suit === 'spades') ? 0 : 10;
    case 'Q':
      return 10;
    case 'K':
      return options.super_kings ? -2 : 0;
    case 'JOKER':
      if (options.eagle_eye) return 2;
      return options.lucky_swing ? -5 : -2;
    default:
      return Number(card.rank);
  }
}

/** Points of one column of two known cards. */
export function columnScore(top: ScoredCard, bottom: ScoredCard, options: Options): number {
  if (top.rank !== bottom.rank) return cardValue(top, options) + cardValue(bottom, options);
  if (top.rank === 'JOKER' && options.eagle_eye) return -4;
  const sum = cardValue(top, options) + cardValue(bottom, options);
  if (options.negative_pairs_keep_value && sum < 0) return sum;
  return 0;
}

/** A hand's points: columns, then the wolfpack and four-of-a-kind bonuses. */
export function scoreHandWith(cards: readonly ScoredCard[], options: Options): number {
  if (cards.length !== 6) throw new Error(`a hand has 6 cards, got ${cards.length}`);
  let total = 0;
  const matchedRanks = new Map<Rank, number>();
  for (const [a, b] of COLUMNS) {
    const top = cards[a] as ScoredCard;
    const bottom = cards[b] as ScoredCard;
    total += columnScore(top, bottom, options);
    if (top.rank === bottom.rank) matchedRanks.set(top.rank, (matchedRanks.get(top.rank) ?? 0) + 1);
  }
  if (options.wolfpack && (matchedRanks.get('J') ?? 0) >= 2) total -= 20;
  if (options.four_of_a_kind) {
    for (const count of matchedRanks.values()) if (count >= 2) total -= 20;
  }
  return total;
}

