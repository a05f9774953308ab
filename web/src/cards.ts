import type { Card, FaceUpCard } from './types.js';

/** Names and symbols of cards, for labels, the "what just happened" line and the screen reader. */
const RANK_NAMES: Record<string, string> = { A: 'Ace', J: 'Jack', Q: 'Queen', K: 'King', JOKER: 'Joker' };
export const SUIT_SYMBOL: Record<string, string> = { hearts: '♥', diamonds: '♦', clubs: '♣', spades: '♠' };

export function cardName(card: FaceUpCard): string {
  if (card.rank === 'JOKER') return 'Joker';
  return `${RANK_NAMES[card.rank] ?? card.rank} of ${card.suit}`;
}

/** Short form for the visible line: "7♥", "Joker". */
export function cardShort(card: FaceUpCard): string {
  return card.rank === 'JOKER' ? 'Joker' : `${card.rank}${SUIT_SYMBOL[card.suit] ?? ''}`;
}

export function isUp(card: Card | undefined): card is FaceUpCard & { face_up: true } {
  return !!card && card.face_up;
}

export function sameFace(a: Card | FaceUpCard | null | undefined, b: Card | FaceUpCard | null | undefined): boolean {
  if (!a || !b) return a === b;
  const au = !('face_up' in a) || a.face_up;
  const bu = !('face_up' in b) || b.face_up;
  if (au !== bu) return false;
  if (!au) return a.deck === b.deck;
  const x = a as FaceUpCard;
  const y = b as FaceUpCard;
  return x.rank === y.rank && x.suit === y.suit && x.deck === y.deck;
}

/** Grid positions: 0 1 2 on top, 3 4 5 below. */
export function positionName(pos: number): string {
  return `${pos < 3 ? 'top' : 'bottom'} ${['left', 'middle', 'right'][pos % 3]}`;
}

const SUIT_OF_SYMBOL: Record<string, string> = { '♥': 'hearts', '♦': 'diamonds', '♣': 'clubs', '♠': 'spades' };

/** A line with short cards ("the 5♥") in words ("the 5 of hearts"): a screen reader reads the suit symbols as symbols. */
export function spokenCards(text: string): string {
  return text.replace(/\b(10|[2-9AJQK])([♥♦♣♠])/g, (_, rank: string, symbol: string) => cardName({ rank, suit: SUIT_OF_SYMBOL[symbol]!, deck: 0 }));
}
