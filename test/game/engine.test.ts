import { describe, expect, it } from 'vitest';
import { decide, evolve, faceDownCount, replay, viewFor, type GameState } from '../../src/game/index.js';
import { allCards, c, inPlay, lobby, refusal, rig, run, runAll, seat, started, testEntropy } from '../support/game.js';

const p = (state: GameState, id: string) => state.players.find((x) => x.id === id)!;

describe('lobby', () => {
  it('creates a game with its host seated', () => {
    const s = lobby(['a']);
    expect(s.host_id).toBe('a');
    expect(s.players.map((x) => x.id)).toEqual(['a']);
    expect(s.phase).toBe('lobby');
    expect(s.seq).toBe(2);
  });
  it('seats up to 6 players, then refuses with room_full', () => {
    const s = lobby(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(refusal(s, { type: 'join', seat: seat('g') })).toBe('room_full');
  });
  it('refuses joins once the game started', () => {
    expect(refusal(started(['a', 'b']), { type: 'join', seat: seat('z') })).toBe('game_in_progress');
  });
  it('only the host adds CPUs, removes players, sets options and starts', () => {
    const s = lobby(['a', 'b']);
    expect(refusal(s, { type: 'add_cpu', by: 'b', seat: seat('c', true) })).toBe('not_host');
    expect(refusal(s, { type: 'remove_player', by: 'b', player_id: 'a' })).toBe('not_host');
    expect(refusal(s, { type: 'set_options', by: 'b', options: { rounds: 3 } })).toBe('not_host');
    expect(refusal(s, { type: 'start_game', by: 'b' })).toBe('not_host');
    expect(refusal(s, { type: 'start_game', by: 'zz' })).toBe('unauthorized');
  });
  it('adds and removes a CPU', () => {
    let s = run(lobby(['a']), { type: 'add_cpu', by: 'a', seat: seat('cpu1', true) }).state;
    expect(p(s, 'cpu1').is_cpu).toBe(true);
    s = run(s, { type: 'remove_player', by: 'a', player_id: 'cpu1' }).state;
    expect(s.players.map((x) => x.id)).toEqual(['a']);
    expect(refusal(s, { type: 'remove_player', by: 'a', player_id: 'nobody' })).toBe('invalid_move');
  });
  it('sets options partially and refuses bad ones, changing nothing', () => {
    let s = lobby(['a', 'b']);
    s = run(s, { type: 'set_options', by: 'a', options: { rounds: 3, use_jokers: true } }).state;
    expect(s.options.rounds).toBe(3);
    expect(s.options.use_jokers).toBe(true);
    expect(s.options.initial_flips).toBe(2);
    expect(refusal(s, { type: 'set_options', by: 'a', options: { rounds: 19 } })).toBe('bad_request');
    expect(refusal(s, { type: 'set_options', by: 'a', options: { bogus: true } as never })).toBe('bad_request');
    expect(refusal(s, { type: 'set_options', by: 'a', options: { flip_mode: 'sometimes' } as never })).toBe('bad_request');
  });
  it('needs two players to start', () => {
    expect(refusal(lobby(['a']), { type: 'start_game', by: 'a' })).toBe('invalid_move');
  });
  it('hands the lobby to the next human when the host leaves', () => {
    const s = run(lobby(['a', 'b']), { type: 'leave', by: 'a', cpu_profile: 'Sofia' }).state;
    expect(s.players.map((x) => x.id)).toEqual(['b']);
    expect(s.host_id).toBe('b');
  });
});

describe('dealing', () => {
  it('deals 6 face-down cards each, one card to the discard pile, the rest to the deck', () => {
    const s = started(['a', 'b', 'c']);
    expect(s.phase).toBe('initial_flip');
    for (const x of s.players) {
      expect(x.hand).toHaveLength(6);
      expect(x.hand.every((slot) => !slot.face_up)).toBe(true);
    }
    expect(s.discard).toHaveLength(1);
    expect(s.deck).toHaveLength(52 - 18 - 1);
  });
  it('uses 1 deck up to 4 players and 2 for 5 or 6, unless set', () => {
    expect(allCards(started(['a', 'b', 'c', 'd']))).toHaveLength(52);
    expect(allCards(started(['a', 'b', 'c', 'd', 'e']))).toHaveLength(104);
    expect(allCards(started(['a', 'b'], { decks: 3 }))).toHaveLength(156);
  });
  it('adds two Jokers per deck, or a single Joker with lucky_swing', () => {
    expect(allCards(started(['a', 'b'], { use_jokers: true, decks: 2 })).filter((x) => x.rank === 'JOKER')).toHaveLength(4);
    expect(allCards(started(['a', 'b'], { use_jokers: true, lucky_swing: true, decks: 2 })).filter((x) => x.rank === 'JOKER')).toHaveLength(1);
    expect(allCards(started(['a', 'b'])).filter((x) => x.rank === 'JOKER')).toHaveLength(0);
  });
  it('the same seed deals the same cards; another seed deals others', () => {
    expect(started(['a', 'b'], {}, 7).deck).toEqual(started(['a', 'b'], {}, 7).deck);
    expect(started(['a', 'b'], {}, 7).deck).not.toEqual(started(['a', 'b'], {}, 8).deck);
  });
});

describe('initial flip', () => {
  it('each player flips initial_flips cards; play starts when all have', () => {
    let s = started(['a', 'b'], { initial_flips: 1 });
    expect(refusal(s, { type: 'flip_initial', by: 'a', positions: [0, 1] })).toBe('invalid_move');
    s = run(s, { type: 'flip_initial', by: 'b', positions: [4] }).state;
    expect(p(s, 'b').hand[4]!.face_up).toBe(true);
    expect(refusal(s, { type: 'flip_initial', by: 'b', positions: [3] })).toBe('invalid_move');
    expect(s.phase).toBe('initial_flip');
    expect(refusal(s, { type: 'draw', by: 'a', source: 'deck' })).toBe('invalid_move');
    s = run(s, { type: 'flip_initial', by: 'a', positions: [2] }).state;
    expect(s.phase).toBe('playing');
    expect(s.current_player_id).toBe('a');
  });
  it('refuses repeated or out-of-range positions', () => {
    const s = started(['a', 'b']);
    expect(refusal(s, { type: 'flip_initial', by: 'a', positions: [1, 1] })).toBe('invalid_move');
    expect(refusal(s, { type: 'flip_initial', by: 'a', positions: [0, 6] })).toBe('invalid_move');
  });
  it('with initial_flips 0 the phase is skipped', () => {
    const s = started(['a', 'b'], { initial_flips: 0 });
    expect(s.phase).toBe('playing');
    expect(s.current_player_id).toBe('a');
  });
});

describe('a turn', () => {
  it('refuses another player\'s move with not_your_turn', () => {
    const s = inPlay(['a', 'b']);
    expect(refusal(s, { type: 'draw', by: 'b', source: 'deck' })).toBe('not_your_turn');
  });
  it('draws from the deck, swaps: the new card lies face up, the old goes face up on the discard', () => {
    let s = inPlay(['a', 'b']);
    const top = s.deck[s.deck.length - 1]!;
    const old = p(s, 'a').hand[5]!.card;
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    expect(s.drawn).toEqual({ card: top, source: 'deck' });
    expect(refusal(s, { type: 'draw', by: 'a', source: 'deck' })).toBe('invalid_move');
    s = run(s, { type: 'swap', by: 'a', position: 5 }).state;
    expect(p(s, 'a').hand[5]).toEqual({ card: top, face_up: true });
    expect(s.discard[s.discard.length - 1]).toEqual(old);
    expect(s.current_player_id).toBe('b');
  });
  it('a card taken from the discard pile must be swapped, not discarded', () => {
    let s = inPlay(['a', 'b']);
    const top = s.discard[s.discard.length - 1]!;
    s = run(s, { type: 'draw', by: 'a', source: 'discard' }).state;
    expect(s.drawn).toEqual({ card: top, source: 'discard' });
    expect(refusal(s, { type: 'discard', by: 'a' })).toBe('invalid_move');
    expect(refusal(s, { type: 'swap', by: 'a', position: 6 })).toBe('invalid_move');
    expect(refusal(s, { type: 'swap', by: 'a', position: -1 })).toBe('invalid_move');
  });
  it('refuses swap or discard before drawing', () => {
    const s = inPlay(['a', 'b']);
    expect(refusal(s, { type: 'swap', by: 'a', position: 0 })).toBe('invalid_move');
    expect(refusal(s, { type: 'discard', by: 'a' })).toBe('invalid_move');
  });
  it('refuses a draw from an empty discard pile', () => {
    const s = structuredClone(inPlay(['a', 'b']));
    s.discard = [];
    expect(refusal(s, { type: 'draw', by: 'a', source: 'discard' })).toBe('invalid_move');
  });
  it('a refused command changes nothing', () => {
    const s = inPlay(['a', 'b']);
    const before = structuredClone(s);
    decide(s, { type: 'swap', by: 'a', position: 0 }, testEntropy(1));
    decide(s, { type: 'draw', by: 'b', source: 'deck' }, testEntropy(2));
    expect(s).toEqual(before);
  });
});

describe('flip_mode', () => {
  const discardOnce = (options: Parameters<typeof inPlay>[1]) => {
    let s = inPlay(['a', 'b'], options);
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    return run(s, { type: 'discard', by: 'a' }).state;
  };
  it('never (default): a discard ends the turn; flips are refused', () => {
    const s = discardOnce({});
    expect(s.current_player_id).toBe('b');
    expect(refusal(s, { type: 'flip', by: 'b', position: 3 })).toBe('invalid_move');
  });
  it('always: after a discard the player must flip a face-down card; skipping is refused', () => {
    let s = discardOnce({ flip_mode: 'always' });
    expect(s.current_player_id).toBe('a');
    expect(viewFor(s, 'a').must).toBe('flip');
    expect(refusal(s, { type: 'skip_flip', by: 'a' })).toBe('invalid_move');
    expect(refusal(s, { type: 'flip', by: 'a', position: 0 })).toBe('invalid_move'); // already face up
    expect(refusal(s, { type: 'draw', by: 'a', source: 'deck' })).toBe('invalid_move');
    s = run(s, { type: 'flip', by: 'a', position: 4 }).state;
    expect(p(s, 'a').hand[4]!.face_up).toBe(true);
    expect(s.current_player_id).toBe('b');
  });
  it('endgame: no flip while everyone has 2+ face-down cards', () => {
    expect(discardOnce({ flip_mode: 'endgame' }).current_player_id).toBe('b');
  });
  it('endgame: flip or skip once any player has at most one face-down card', () => {
    let s = inPlay(['a', 'b'], { flip_mode: 'endgame' });
    s = rig(s, { b: { cards: [c('5'), c('5'), c('5'), c('6'), c('6'), c('7')], up: [0, 1, 2, 3, 4] } });
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    s = run(s, { type: 'discard', by: 'a' }).state;
    expect(viewFor(s, 'a').must).toBe('flip_or_skip');
    const skipped = run(s, { type: 'skip_flip', by: 'a' }).state;
    expect(skipped.current_player_id).toBe('b');
    expect(faceDownCount(p(skipped, 'a'))).toBe(4);
    const flipped = run(s, { type: 'flip', by: 'a', position: 3 }).state;
    expect(faceDownCount(p(flipped, 'a'))).toBe(3);
  });
});

describe('flip_as_action and knock_early', () => {
  it('flip_as_action is refused when off, and ends the turn when on', () => {
    expect(refusal(inPlay(['a', 'b']), { type: 'flip_action', by: 'a', position: 3 })).toBe('invalid_move');
    const s = run(inPlay(['a', 'b'], { flip_as_action: true }), { type: 'flip_action', by: 'a', position: 3 }).state;
    expect(p(s, 'a').hand[3]!.face_up).toBe(true);
    expect(s.current_player_id).toBe('b');
  });
  it('flip_as_action is refused on a face-up card or after drawing', () => {
    let s = inPlay(['a', 'b'], { flip_as_action: true });
    expect(refusal(s, { type: 'flip_action', by: 'a', position: 0 })).toBe('invalid_move');
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    expect(refusal(s, { type: 'flip_action', by: 'a', position: 3 })).toBe('invalid_move');
  });
  it('knock_early is refused when off or with more than 2 face-down cards', () => {
    let s = inPlay(['a', 'b']);
    expect(refusal(s, { type: 'knock_early', by: 'a' })).toBe('invalid_move');
    s = inPlay(['a', 'b'], { knock_early: true });
    expect(refusal(s, { type: 'knock_early', by: 'a' })).toBe('invalid_move');
  });
  it('knock_early with 1 or 2 face-down cards flips them and goes out', () => {
    let s = inPlay(['a', 'b'], { knock_early: true });
    s = rig(s, { a: { cards: [c('A'), c('A'), c('3'), c('4'), c('5'), c('6')], up: [0, 1, 2, 3] } });
    const { state, events } = run(s, { type: 'knock_early', by: 'a' });
    expect(events.map((e) => e.type)).toEqual(['knock_early']);
    expect(faceDownCount(p(state, 'a'))).toBe(0);
    expect(state.finisher_id).toBe('a');
    expect(state.phase).toBe('final_turn');
    expect(state.current_player_id).toBe('b');
  });
});

describe('going out, final turns, round end', () => {
  const nearlyOut = (players = ['a', 'b', 'c'], options = {}) => {
    let s = inPlay(players, { rounds: 2, ...options });
    s = rig(s, { a: { cards: [c('A'), c('A', 'hearts'), c('3'), c('4'), c('5'), c('6')], up: [0, 1, 2, 3, 4] } }, { deckTop: [c('K', 'hearts', 1)] });
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    return run(s, { type: 'swap', by: 'a', position: 5 }).state;
  };
  it('the first player with six face-up cards goes out; the others get exactly one more turn', () => {
    let s = nearlyOut();
    expect(s.finisher_id).toBe('a');
    expect(s.phase).toBe('final_turn');
    expect(s.current_player_id).toBe('b');
    s = run(s, { type: 'draw', by: 'b', source: 'deck' }).state;
    s = run(s, { type: 'discard', by: 'b' }).state;
    // After a final turn every card of that player is face up.
    expect(faceDownCount(p(s, 'b'))).toBe(0);
    expect(s.current_player_id).toBe('c');
    s = run(s, { type: 'draw', by: 'c', source: 'deck' }).state;
    const last = run(s, { type: 'discard', by: 'c' });
    expect(last.events.map((e) => e.type)).toEqual(['card_discarded', 'round_ended']);
    expect(last.state.phase).toBe('round_over');
    expect(last.state.players.every((x) => faceDownCount(x) === 0)).toBe(true);
  });
  it('scores the round, adds totals, counts round wins, and the next round rotates the first player', () => {
    let s = nearlyOut(['a', 'b']);
    s = run(s, { type: 'draw', by: 'b', source: 'deck' }).state;
    const { state, events } = run(s, { type: 'discard', by: 'b' });
    const ended = events.find((e) => e.type === 'round_ended')!;
    if (ended.type !== 'round_ended') throw new Error();
    expect(p(state, 'a').round_score).toBe(ended.data.scores.a);
    expect(p(state, 'a').total_score).toBe(ended.data.scores.a);
    const winners = ended.data.round_winner_ids;
    expect(winners.length).toBeGreaterThan(0);
    for (const id of winners) expect(p(state, id).rounds_won).toBe(1);
    expect(refusal(state, { type: 'next_round', by: 'b' })).toBe('not_host');
    const next = run(state, { type: 'next_round', by: 'a' }).state;
    expect(next.round).toBe(2);
    expect(next.first_player_id).toBe('b');
    expect(next.players.every((x) => x.round_score === null && faceDownCount(x) === 6)).toBe(true);
  });
  it('ends the game after the last round with the lowest total winning', () => {
    let s = nearlyOut(['a', 'b'], { rounds: 1 });
    s = run(s, { type: 'draw', by: 'b', source: 'deck' }).state;
    const { state, events } = run(s, { type: 'discard', by: 'b' });
    expect(events.map((e) => e.type)).toEqual(['card_discarded', 'round_ended', 'game_ended']);
    expect(state.phase).toBe('game_over');
    const low = Math.min(...state.players.map((x) => x.total_score));
    expect(state.winner_ids).toEqual(state.players.filter((x) => x.total_score === low).map((x) => x.id));
    expect(refusal(state, { type: 'next_round', by: 'a' })).toBe('invalid_move');
    expect(refusal(state, { type: 'draw', by: 'a', source: 'deck' })).toBe('invalid_move');
  });
  it('the player who went out does not play again', () => {
    const s = nearlyOut(['a', 'b']);
    expect(refusal(s, { type: 'draw', by: 'a', source: 'deck' })).toBe('not_your_turn');
  });
});

describe('deck exhaustion', () => {
  it('shuffles the discard pile but its top back into the deck when the deck runs out', () => {
    let s = structuredClone(inPlay(['a', 'b']));
    // Move all but one deck card to the discard pile.
    const moved = s.deck.splice(1);
    s.discard.unshift(...moved);
    const total = allCards(s).length;
    const topBefore = s.discard[s.discard.length - 1]!;
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    expect(s.discard).toEqual([topBefore]);
    expect(s.deck.length).toBe(moved.length);
    expect(s.reshuffles).toBe(1);
    expect(allCards(s)).toHaveLength(total);
  });
});

describe('leaving mid-game', () => {
  it('a CPU takes over the seat and the host passes on', () => {
    const s = run(inPlay(['a', 'b', 'c']), { type: 'leave', by: 'a', cpu_profile: 'Maya' }).state;
    expect(p(s, 'a')).toMatchObject({ is_cpu: true, cpu_profile: 'Maya', replaced: true, token_hash: null });
    expect(s.host_id).toBe('b');
    expect(s.players).toHaveLength(3);
  });
});

describe('event sourcing', () => {
  it('replaying the events rebuilds the live state', () => {
    let s = inPlay(['a', 'b'], { flip_mode: 'always' });
    const events = [];
    for (const cmd of [
      { type: 'draw', by: 'a', source: 'deck' },
      { type: 'discard', by: 'a' },
      { type: 'flip', by: 'a', position: 5 },
      { type: 'draw', by: 'b', source: 'discard' },
      { type: 'swap', by: 'b', position: 2 },
    ] as const) {
      const r = run(s, cmd);
      s = r.state;
      events.push(...r.events);
    }
    const start = inPlay(['a', 'b'], { flip_mode: 'always' });
    expect(replay(events, start)).toEqual(s);
  });
  it('refuses to apply an event that does not fit (a corrupt log)', () => {
    const s = inPlay(['a', 'b']);
    expect(() => evolve(s, { type: 'card_drawn', player_id: 'a', data: { source: 'deck', card: c('K', 'hearts', 2) } })).toThrow(/does not match/);
    expect(() => evolve(s, { type: 'card_flipped', player_id: 'b', data: { position: 3, card: c('K') } })).toThrow(/turn/);
  });
  it('runAll plays a sequence of commands', () => {
    const s = runAll(inPlay(['a', 'b']), [{ type: 'draw', by: 'a', source: 'deck' }, { type: 'discard', by: 'a' }]);
    expect(s.current_player_id).toBe('b');
  });
});
