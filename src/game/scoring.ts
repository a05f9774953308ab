import type { Rank, Suit } from './cards.js';
import { withDefaults, type Options } from './options.js';

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

/** Public API (RULES.md): a hand's points under partial options. */
export function scoreHand(cards: readonly ScoredCard[], options?: Partial<Options>): number {
  return scoreHandWith(cards, withDefaults(options));
}

export interface HandToScore {
  id: string;
  cards: readonly ScoredCard[];
}

/** Round scores after the end-of-round rules, applied in RULES.md's order. */
export function scoreRoundWith(
  hands: readonly HandToScore[],
  finisherId: string | null,
  options: Options,
): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const hand of hands) scores[hand.id] = scoreHandWith(hand.cards, options);
  const ids = hands.map((hand) => hand.id);
  const get = (id: string): number => scores[id] as number;

  if (options.blackjack) for (const id of ids) if (get(id) === 21) scores[id] = 0;
  if (finisherId !== null && finisherId in scores) {
    if (options.knock_penalty && ids.some((id) => id !== finisherId && get(id) < get(finisherId))) {
      scores[finisherId] = get(finisherId) + 10;
    }
    if (options.knock_bonus) scores[finisherId] = get(finisherId) - 5;
  }
  if (options.underdog_bonus && ids.length > 0) {
    const lowest = Math.min(...ids.map(get));
    for (const id of ids) if (get(id) === lowest) scores[id] = get(id) - 3;
  }
  if (options.tied_shame) {
    const before = ids.map(get);
    ids.forEach((id, i) => {
      if (before.some((score, j) => j !== i && score === before[i])) scores[id] = get(id) + 5;
    });
  }
  return scores;
}

/** Public API (RULES.md): round scores for `{ id, cards }[]`. */
export function scoreRound(
  hands: readonly HandToScore[],
  finisherId: string | null,
  options?: Partial<Options>,
): Record<string, number> {
  return scoreRoundWith(hands, finisherId, withDefaults(options));
}
