import { withDefaults, type Options } from './options.js';
import { scoreHandWith, type ScoredCard } from './points.js';

export { COLUMNS, cardValue, columnScore, partnerOf, scoreHandWith, type ScoredCard } from './points.js';

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
