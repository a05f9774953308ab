/**
 * The table component renders any view (the spectator page and the replay page build on it):
 * a seat's, a spectator's (`you` and `must` null) and a replay frame (every card revealed).
 * Markup only: what each view may and may not offer.
 */
import { describe, expect, it } from 'vitest';
import { tableHtml, type TableProps } from '../../web/src/screens/table.js';
import type { Card, View } from '../../web/src/types.js';

const down: Card = { face_up: false, deck: 0 };
const up = (rank: string, suit: string): Card => ({ face_up: true, rank, suit, deck: 0 });
const props: TableProps = { previous: null, selected: [], enabled: true, happened: null, confirmLeave: false, heldFromDiscard: null, results: { countdown: null, host: false, enabled: true, nextGameAsked: false } };

function view(patch: Partial<View> = {}, cards: Card[] = [up('7', 'hearts'), down, down, up('7', 'clubs'), down, down]): View {
  return {
    room: 'ABCD', game_id: 'g1', phase: 'playing', round: 1, rounds: 2, options: { use_jokers: true, lucky_swing: true }, host_id: 'p1', you: 'p1',
    players: ['p1', 'p2', 'c1'].map((id, i) => ({ id, name: `Player ${i}`, is_cpu: id === 'c1', cpu_profile: id === 'c1' ? 'Sage' : null, connected: true, cards, round_score: null, total_score: 0, rounds_won: 0 })),
    current_player_id: 'p1', deck_count: 30, discard_top: { rank: 'Q', suit: 'spades', deck: 0 }, drawn_card: null, drawn_from: null,
    finisher_id: null, must: 'draw', winner_ids: [],
    ...patch,
  };
}

const count = (html: string, text: string) => html.split(text).length - 1;

describe('tableHtml', () => {
  it("a seat's view: its own cards are buttons, the piles say what pressing them does, pairs are marked", () => {
    const html = tableHtml(view(), props);
    expect(count(html, 'data-testid="my-card"')).toBe(6);
    expect(html).toContain('data-action="draw-deck"');
    expect(html).toContain('Discard pile, Queen of spades on top: press to take the Queen of spades');
    expect(count(html, 'data-testid="opponent"')).toBe(2);
    expect(html).toContain('(a pair: scores 0)');
    expect(html).toContain('Lucky swing');
    expect(html).not.toMatch(/[\u{1F300}-\u{1FAFF}\u26F3]/u); // no emoji
    // Every hand shows its running value; a CPU's badge names its personality, not its name again.
    expect(count(html, 'data-testid="hand-value"')).toBe(3);
    expect(html).toContain('CPU · sneaky finisher');
  });

  it("a spectator's view: every hand alike, nothing to press, no Leave of a seat", () => {
    const html = tableHtml(view({ you: null, must: null, current_player_id: 'c1', drawn_from: 'discard' }), { ...props, heldFromDiscard: { rank: '9', suit: 'clubs', deck: 0 } });
    expect(count(html, 'data-testid="opponent"')).toBe(3);
    expect(html).not.toContain('data-testid="my-card"');
    expect(html).not.toContain('data-action=');
    expect(html).not.toContain('data-testid="leave"');
    // The card a CPU took from the discard pile is public, and shown.
    expect(html).toContain('Player 2 holds the 9 of clubs from the discard pile');
    expect(html).toContain('Player 2’s turn');
  });

  it('your last turn says so, and going out yourself puts the "went out" badge on your own hand', () => {
    const last = tableHtml(view({ finisher_id: 'p2', phase: 'final_turn' }), props);
    expect(last).toMatch(/class="status act last"[^>]*>Last turn! Your turn/);
    const mine = tableHtml(view({ finisher_id: 'p1', phase: 'final_turn', must: null, current_player_id: 'p2' }), props);
    const myHand = mine.slice(mine.indexOf('data-testid="my-hand"'));
    expect(myHand.slice(0, myHand.indexOf('</section>'))).toContain('went out');
    expect(mine).not.toContain('Last turn!');
  });

  it('a replay frame at the end of a hole: all revealed, scores and the winner, still nothing to press when read-only', () => {
    const all = [up('7', 'hearts'), up('2', 'spades'), up('K', 'clubs'), up('7', 'clubs'), up('JOKER', 'hearts'), up('5', 'diamonds')];
    const frame = view({ you: null, must: null, phase: 'round_over', current_player_id: null }, all);
    frame.players = frame.players.map((p, i) => ({ ...p, round_score: 3 + i, total_score: 3 + i }));
    const html = tableHtml(frame, { ...props, enabled: false });
    expect(count(html, 'data-face="down"')).toBe(1); // the deck's back only
    expect(html).toContain('data-testid="results"');
    expect(html).toContain('Player 0 wins hole 1 with 3');
    expect(html).not.toContain('data-action=');
  });
});
