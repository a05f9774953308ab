import { describe, expect, it } from 'vitest';
import { scoreHand, scoreRound, type Rank, type Suit } from '../../src/game/index.js';

const h = (...cards: string[]) =>
  cards.map((text) => {
    const [rank, suit = 'clubs'] = text.split(':') as [Rank, Suit?];
    return { rank, suit: suit as Suit };
  });

describe('card values', () => {
  it('scores every rank at its default value', () => {
    // Columns (0,3) (1,4) (2,5) with unmatched partners, against a K (0) each.
    expect(scoreHand(h('A', '2', '3', 'K', 'K', 'K'))).toBe(1 - 2 + 3);
    expect(scoreHand(h('4', '5', '6', 'K', 'K', 'K'))).toBe(15);
    expect(scoreHand(h('7', '8', '9', 'K', 'K', 'K'))).toBe(24);
    expect(scoreHand(h('10', 'J', 'Q', 'K', 'K', 'K'))).toBe(30);
    expect(scoreHand(h('JOKER', 'A', 'A', 'K', 'K', 'K'))).toBe(-2 + 2);
  });
  it('ten_penny makes a 10 worth 1', () => {
    expect(scoreHand(h('10', 'A', 'A', 'K', 'K', 'K'), { ten_penny: true })).toBe(3);
  });
  it('one_eyed_jacks: J of hearts and spades score 0, the others 10', () => {
    expect(scoreHand(h('J:hearts', 'J:spades', 'J:clubs', 'K', 'K', 'K'), { one_eyed_jacks: true })).toBe(10);
    expect(scoreHand(h('J:hearts', 'J:spades', 'J:diamonds', 'K', 'K', 'K'))).toBe(30);
  });
  it('super_kings makes a K worth -2', () => {
    expect(scoreHand(h('K', 'A', 'A', 'Q', 'Q', 'Q'), { super_kings: true })).toBe(-2 + 2 + 30);
  });
  it('lucky_swing makes the Joker worth -5', () => {
    expect(scoreHand(h('JOKER', 'K', 'K', 'A', 'A', 'A'), { lucky_swing: true, use_jokers: true })).toBe(-5 + 3);
  });
  it('eagle_eye: an unpaired Joker is +2, a column of two Jokers -4', () => {
    expect(scoreHand(h('JOKER', 'K', 'K', 'A', 'A', 'A'), { eagle_eye: true })).toBe(2 + 3);
    expect(scoreHand(h('JOKER', 'K', 'K', 'JOKER', 'A', 'A'), { eagle_eye: true })).toBe(-4 + 2);
  });
});

describe('columns and hand bonuses', () => {
  it('a matched column scores 0 whatever the values, including negative cards', () => {
    expect(scoreHand(h('Q', '9', '2', 'Q', '9', '2'))).toBe(0);
    expect(scoreHand(h('JOKER', 'A', 'A', 'JOKER', 'K', 'K'))).toBe(2);
  });
  it('only columns match, not rows', () => {
    expect(scoreHand(h('5', '5', '5', '6', '7', '8'))).toBe(36);
  });
  it('negative_pairs_keep_value: a matched negative column keeps its sum', () => {
    expect(scoreHand(h('2', 'K', 'K', '2', 'A', 'A'), { negative_pairs_keep_value: true })).toBe(-4 + 2);
    expect(scoreHand(h('5', 'K', 'K', '5', 'A', 'A'), { negative_pairs_keep_value: true })).toBe(2);
  });
  it('wolfpack: two matched columns of Jacks score -20 more', () => {
    expect(scoreHand(h('J', 'J', 'A', 'J', 'J', '3'), { wolfpack: true })).toBe(4 - 20);
    expect(scoreHand(h('J', 'J', 'A', 'J', 'J', '3'))).toBe(4);
  });
  it('four_of_a_kind: two matched columns of one rank score -20 more, stacking with wolfpack', () => {
    expect(scoreHand(h('7', '7', 'A', '7', '7', '3'), { four_of_a_kind: true })).toBe(4 - 20);
    expect(scoreHand(h('J', 'J', 'A', 'J', 'J', '3'), { four_of_a_kind: true, wolfpack: true })).toBe(4 - 40);
    expect(scoreHand(h('7', '8', 'A', '7', '8', '3'), { four_of_a_kind: true })).toBe(4);
  });
  it('rejects a hand that is not six cards', () => {
    expect(() => scoreHand(h('A', '2'))).toThrow(/6 cards/);
  });
});

describe('scoreRound, end-of-round rules in order', () => {
  const hand = (total: number) => {
    // A hand worth `total`: a 2-K column pair trick keeps it simple: values in the top row, Ks below.
    const ranks: Rank[] = [];
    let rest = total;
    for (let i = 0; i < 3; i++) {
      // Ranks 3-9 by face value, A for 1 (a '2' is worth -2), K for nothing left.
      let v = Math.max(-2, Math.min(9, rest));
      if (v === 2) v = 1;
      if (v === -1) v = 0;
      const r = (v === -2 ? '2' : v === 0 ? 'K' : v === 1 ? 'A' : String(v)) as Rank;
      ranks.push(r);
      rest -= v;
    }
    return [...ranks, 'K', 'K', 'K'].map((rank) => ({ rank: rank as Rank, suit: 'clubs' as Suit }));
  };
  it('builds hands of the wanted value', () => {
    for (const t of [-2, 0, 3, 10, 21, 27]) expect(scoreHand(hand(t))).toBe(t);
  });
  it('no rules: raw hand scores', () => {
    expect(scoreRound([{ id: 'a', cards: hand(5) }, { id: 'b', cards: hand(9) }], 'a')).toEqual({ a: 5, b: 9 });
  });
  it('blackjack: exactly 21 scores 0', () => {
    expect(scoreRound([{ id: 'a', cards: hand(21) }, { id: 'b', cards: hand(9) }], 'b', { blackjack: true })).toEqual({ a: 0, b: 9 });
  });
  it('knock_penalty: the finisher gets +10 if someone scored lower', () => {
    expect(scoreRound([{ id: 'a', cards: hand(5) }, { id: 'b', cards: hand(3) }], 'a', { knock_penalty: true })).toEqual({ a: 15, b: 3 });
    expect(scoreRound([{ id: 'a', cards: hand(5) }, { id: 'b', cards: hand(5) }], 'a', { knock_penalty: true })).toEqual({ a: 5, b: 5 });
  });
  it('knock_bonus: the finisher gets -5, stacking with the penalty', () => {
    expect(scoreRound([{ id: 'a', cards: hand(5) }, { id: 'b', cards: hand(3) }], 'a', { knock_bonus: true })).toEqual({ a: 0, b: 3 });
    expect(scoreRound([{ id: 'a', cards: hand(5) }, { id: 'b', cards: hand(3) }], 'a', { knock_bonus: true, knock_penalty: true })).toEqual({ a: 10, b: 3 });
  });
  it('blackjack applies before the knock penalty', () => {
    // a has 21 -> 0, so b (5) is not lower than a: no penalty for b who went out.
    expect(scoreRound([{ id: 'a', cards: hand(21) }, { id: 'b', cards: hand(5) }], 'b', { blackjack: true, knock_penalty: true })).toEqual({ a: 0, b: 15 });
  });
  it('underdog_bonus: the lowest score(s) get -3', () => {
    expect(scoreRound([{ id: 'a', cards: hand(2) }, { id: 'b', cards: hand(2) }, { id: 'c', cards: hand(7) }], 'c', { underdog_bonus: true })).toEqual({ a: -1, b: -1, c: 7 });
  });
  it('tied_shame: every player equal to another gets +5, after the underdog bonus', () => {
    expect(scoreRound([{ id: 'a', cards: hand(4) }, { id: 'b', cards: hand(4) }, { id: 'c', cards: hand(7) }], 'c', { tied_shame: true })).toEqual({ a: 9, b: 9, c: 7 });
    // underdog first: a and b both 1 -> -2 and tied -> +5 = 3.
    expect(scoreRound([{ id: 'a', cards: hand(1) }, { id: 'b', cards: hand(1) }, { id: 'c', cards: hand(7) }], 'c', { tied_shame: true, underdog_bonus: true })).toEqual({ a: 3, b: 3, c: 7 });
  });
  it('the knock bonus can create a tie that tied_shame punishes', () => {
    expect(scoreRound([{ id: 'a', cards: hand(8) }, { id: 'b', cards: hand(3) }], 'a', { knock_bonus: true, tied_shame: true })).toEqual({ a: 8, b: 8 });
  });
});
