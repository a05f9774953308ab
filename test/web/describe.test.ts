/**
 * The client's "what just happened" line, from two consecutive views (pure): every kind of
 * move is told, for CPUs as for people, and a card drawn from the deck is never named.
 */
import { describe, expect, it } from 'vitest';
import { statusText } from '../../web/src/components/status.js';
import { whatHappened } from '../../web/src/describe.js';
import { spokenCards } from '../../web/src/cards.js';
import type { Card, View } from '../../web/src/types.js';

const down: Card = { face_up: false, deck: 0 };
const up = (rank: string, suit: string): Card => ({ face_up: true, rank, suit, deck: 0 });

function view(patch: Partial<View> = {}, maya: Card[] = [down, down, down, down, down, down]): View {
  return {
    room: 'ABCD', game_id: 'g1', phase: 'playing', round: 1, rounds: 2, options: {}, host_id: 'p1', you: 'p1',
    players: [
      { id: 'p1', name: 'Ann', is_cpu: false, cpu_profile: null, connected: true, cards: [down, down, down, down, down, down], round_score: null, total_score: 0, rounds_won: 0 },
      { id: 'c1', name: 'Maya', is_cpu: true, cpu_profile: 'Maya', connected: true, cards: maya, round_score: null, total_score: 0, rounds_won: 0 },
    ],
    current_player_id: 'c1', deck_count: 30, discard_top: { rank: '7', suit: 'hearts', deck: 0 }, drawn_card: null, drawn_from: null,
    finisher_id: null, must: null, winner_ids: [],
    ...patch,
  };
}

describe('whatHappened', () => {
  it('a CPU taking the discard names the card; a draw from the deck names none', () => {
    expect(whatHappened(view(), view({ drawn_from: 'discard', discard_top: { rank: 'K', suit: 'spades', deck: 0 } }))).toBe('Maya took the 7♥ from the discard pile');
    const text = whatHappened(view(), view({ drawn_from: 'deck', deck_count: 29 }))!;
    expect(text).toBe('Maya drew from the deck');
  });

  it('a swap says what went in and what was thrown away; a discard and a flip are told', () => {
    const before = view({ drawn_from: 'discard', discard_top: { rank: 'K', suit: 'spades', deck: 0 } });
    const after = view({ current_player_id: 'p1', discard_top: { rank: 'Q', suit: 'spades', deck: 0 } }, [up('7', 'hearts'), down, down, down, down, down]);
    expect(whatHappened(before, after)).toBe('Maya swapped the 7♥ into top left, discarding the Q♠');
    expect(whatHappened(view({ drawn_from: 'deck' }), view({ current_player_id: 'p1', discard_top: { rank: '5', suit: 'diamonds', deck: 0 } }))).toBe('Maya discarded the 5♦');
    expect(whatHappened(view(), view({ current_player_id: 'p1' }, [down, down, down, down, up('9', 'clubs'), down]))).toBe('Maya flipped the 9♣ (bottom middle)');
  });

  it('going out, a CPU taking over a seat, and the end of a hole are told', () => {
    const out = whatHappened(view(), view({ current_player_id: 'p1', finisher_id: 'c1' }, [down, down, down, down, up('9', 'clubs'), down]))!;
    expect(out).toContain('Maya went out: everyone else has one last turn');
    const before = view();
    const after = view();
    after.players[0] = { ...after.players[0]!, is_cpu: true, cpu_profile: 'Marcus' };
    expect(whatHappened(before, after)).toBe('Ann left the game; a CPU (Marcus) plays their seat now');
    expect(whatHappened(view(), view({ phase: 'round_over' }))).toContain('Hole 1 is over');
  });

  it('for the live region, cards are named in words (a screen reader reads "7♥" as symbols)', () => {
    expect(whatHappened(view(), view({ drawn_from: 'discard', discard_top: { rank: 'K', suit: 'spades', deck: 0 } }), 'spoken')).toBe('Maya took the 7 of hearts from the discard pile');
    expect(whatHappened(view(), view({ current_player_id: 'p1' }, [down, down, down, down, up('Q', 'clubs'), down]), 'spoken')).toBe('Maya flipped the Queen of clubs (bottom middle)');
  });

  it('nothing to tell across games, or without a view before', () => {
    expect(whatHappened(null, view())).toBeNull();
    expect(whatHappened(view(), view({ game_id: 'g2' }))).toBeNull();
  });
});

describe('statusText at the end of a hole and of the game', () => {
  it('names the hole\'s winner, ties included, and the game\'s', () => {
    const scored = (a: number, m: number) =>
      view({ phase: 'round_over', players: view().players.map((p) => ({ ...p, round_score: p.id === 'p1' ? a : m })) });
    expect(statusText(scored(12, 20), -1)).toBe('Hole 1: Ann wins it with 12');
    expect(statusText(scored(9, 9), -1)).toBe('Hole 1: Ann and Maya share it with 9');
    expect(statusText(view({ phase: 'game_over', winner_ids: ['c1'] }), -1)).toBe('Game over: Maya wins');
  });
});

describe('spokenCards', () => {
  it('turns the short cards of a line into words for a screen reader', () => {
    expect(spokenCards('Rui keeps the 5♥ and throws away the 10♣')).toBe('Rui keeps the 5 of hearts and throws away the 10 of clubs');
    expect(spokenCards('Maya draws the Q♠; Ann turns up the A♦ and a Joker')).toBe('Maya draws the Queen of spades; Ann turns up the Ace of diamonds and a Joker');
  });
});
