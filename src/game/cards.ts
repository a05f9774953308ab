export const RANKS = ['A', '2', '3', '4', '5', '6', '7', '8', '9', '10', 'J', 'Q', 'K'] as const;
export const SUITS = ['hearts', 'diamonds', 'clubs', 'spades'] as const;

export type StandardRank = (typeof RANKS)[number];
export type Rank = StandardRank | 'JOKER';
export type Suit = (typeof SUITS)[number];

/**
 * A physical card. `deck` says which of the shoe's decks it came from (0-based), so a client
 * can draw the right back; (rank, suit, deck) is unique within a shoe. Jokers carry a suit to
 * tell the red one (hearts) from the black one (spades).
 */
export interface Card {
  rank: Rank;
  suit: Suit;
  deck: number;
}

export function sameCard(a: Card, b: Card): boolean {
  return a.rank === b.rank && a.suit === b.suit && a.deck === b.deck;
}

export function cardKey(card: Card): string {
  return `${card.rank}:${card.suit}:${card.deck}`;
}

/**
 * Builds an unshuffled shoe. With Jokers each deck adds a red and a black Joker; with
 * `luckySwing` the whole shoe holds a single Joker instead.
 */
export function buildShoe(decks: number, useJokers: boolean, luckySwing: boolean): Card[] {
  const shoe: Card[] = [];
  for (let deck = 0; deck < decks; deck++) {
    for (const suit of SUITS) for (const rank of RANKS) shoe.push({ rank, suit, deck });
    if (useJokers && !luckySwing) {
      shoe.push({ rank: 'JOKER', suit: 'hearts', deck }, { rank: 'JOKER', suit: 'spades', deck });
    }
  }
  if (useJokers && luckySwing) shoe.push({ rank: 'JOKER', suit: 'hearts', deck: 0 });
  return shoe;
}
