/**
 * An independent blunder checker (RULES.md "CPU players"): it reads only the views a seat saw
 * and the moves it made, and knows nothing of the AI's code. It uses the public scoring
 * functions for card and column values.
 */
import { cardValue, columnScore, type Card, type GameView, type Options } from '../../src/game/index.js';

export interface Blunder {
  kind: 'discarded_joker_or_two' | 'took_high_card_without_pair' | 'paired_negative_cards' | 'swapped_good_for_worse';
  detail: string;
}

type Move = { type: string; position?: number; source?: string };
type Known = { rank: Card['rank']; suit: Card['suit'] };

const partner = (position: number): number => (position < 3 ? position + 3 : position - 3);

function faceUp(view: GameView, position: number): Known | null {
  const me = view.players.find((p) => p.id === view.you);
  const card = me?.cards[position];
  return card && card.face_up ? { rank: card.rank, suit: card.suit } : null;
}

function isNegative(card: Known, options: Options): boolean {
  if (card.rank === 'JOKER') return !options.eagle_eye || cardValue(card, options) < 0;
  return card.rank === '2' || cardValue(card, options) < 0;
}

export function checkMove(view: GameView, move: Move): Blunder[] {
  const found: Blunder[] = [];
  const options = view.options;
  const held = view.drawn_card;
  if (move.type === 'discard' && held && (held.rank === 'JOKER' || held.rank === '2')) {
    found.push({ kind: 'discarded_joker_or_two', detail: `discarded ${held.rank}` });
  }
  if (move.type === 'swap' && held && move.position !== undefined) {
    const position = move.position;
    const old = faceUp(view, position);
    const mate = faceUp(view, partner(position));
    const pairs = mate !== null && mate.rank === held.rank;
    if (view.drawn_from === 'discard' && ['10', 'J', 'Q'].includes(held.rank) && !pairs) {
      found.push({ kind: 'took_high_card_without_pair', detail: `took ${held.rank} from the discard pile and placed it at ${position}` });
    }
    if (pairs && isNegative(held, options) && !options.negative_pairs_keep_value) {
      found.push({ kind: 'paired_negative_cards', detail: `paired ${held.rank} at ${position}` });
    }
    if (old) {
      const before = mate ? columnScore(old, mate, options) : cardValue(old, options);
      const after = mate ? columnScore(held, mate, options) : cardValue(held, options);
      if (after > before) {
        found.push({ kind: 'swapped_good_for_worse', detail: `replaced ${old.rank} with ${held.rank} at ${position}` });
      }
    }
  }
  return found;
}
