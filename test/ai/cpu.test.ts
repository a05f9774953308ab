import { describe, expect, it } from 'vitest';
import { chooseCpuMove, CPU_PROFILES, profileByName } from '../../src/ai/index.js';
import { playCpuGame, randomOptions, simulationRng } from '../../src/ai/selfplay.js';
import { viewFor } from '../../src/game/index.js';
import { checkMove, type Blunder } from '../support/blunders.js';
import { c, inPlay, rig, run } from '../support/game.js';

describe('CPU players', () => {
  it('has the eight personalities of RULES.md', () => {
    expect(CPU_PROFILES.map((p) => [p.name, p.threshold, p.pair_hope, p.aggression])).toEqual([
      ['Sofia', 4, 0.2, 0.2], ['Maya', 6, 0.4, 0.85], ['Priya', 7, 0.8, 0.5], ['Marcus', 5, 0.35, 0.4],
      ['Kenji', 8, 0.7, 0.75], ['Diego', 6, 0.5, 0.6], ['River', 5, 0.45, 0.55], ['Sage', 5, 0.3, 0.9],
    ]);
    expect(profileByName('maya')?.name).toBe('Maya');
  });

  it('plays 300 CPU-only games across random option sets to the end without a blunder', () => {
    const blunders: Array<Blunder & { game: number }> = [];
    let moves = 0;
    for (let game = 0; game < 300; game++) {
      const result = playCpuGame(game, 2 + (game % 5), randomOptions(game), {
        beforeMove: (view, move) => {
          moves++;
          for (const b of checkMove(view, move)) blunders.push({ ...b, game });
        },
      });
      expect(result.state.phase).toBe('game_over');
    }
    expect(moves).toBeGreaterThan(10_000);
    expect(blunders).toEqual([]);
  });

  it('is deterministic for a seed', () => {
    expect(playCpuGame(7, 4, randomOptions(7)).events).toEqual(playCpuGame(7, 4, randomOptions(7)).events);
  });

  it('decides from the seat\'s view only: hidden cards do not change its move', () => {
    const base = inPlay(['a', 'b'], {}, 3);
    const other = structuredClone(base);
    // Swap two face-down cards of a and b's whole hand: a's view is unchanged.
    const a = other.players[0]!;
    [a.hand[3], a.hand[4]] = [a.hand[4]!, a.hand[3]!];
    other.players[1]!.hand.reverse();
    other.players[1]!.hand.forEach((slot) => (slot.face_up = false));
    const b0 = base.players[1]!;
    b0.hand.forEach((slot) => (slot.face_up = false));
    for (const profile of CPU_PROFILES) {
      for (let seed = 0; seed < 20; seed++) {
        expect(chooseCpuMove(viewFor(other, 'a'), profile, simulationRng(seed))).toEqual(chooseCpuMove(viewFor(base, 'a'), profile, simulationRng(seed)));
      }
    }
  });

  it('never discards a drawn Joker or 2', () => {
    let s = inPlay(['a', 'b'], { use_jokers: true });
    s = rig(s, {}, { deckTop: [c('2', 'hearts', 1)] });
    s = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    for (const profile of CPU_PROFILES) for (let seed = 0; seed < 10; seed++) {
      expect(chooseCpuMove(viewFor(s, 'a'), profile, simulationRng(seed))?.type).toBe('swap');
    }
  });

  it('takes a Q from the discard pile only to pair it', () => {
    let s = inPlay(['a', 'b']);
    s = rig(s, { a: { cards: [c('3'), c('4'), c('5'), c('6'), c('7'), c('8')], up: [0, 1] } }, { discardTop: c('Q', 'hearts', 1) });
    for (const profile of CPU_PROFILES) expect(chooseCpuMove(viewFor(s, 'a'), profile, simulationRng(1))).toEqual({ type: 'draw', source: 'deck' });
    s = rig(s, { a: { cards: [c('Q'), c('4'), c('5'), c('6'), c('7'), c('8')], up: [0, 1] } });
    for (const profile of CPU_PROFILES) expect(chooseCpuMove(viewFor(s, 'a'), profile, simulationRng(1))).toEqual({ type: 'draw', source: 'discard' });
  });

  it('returns no move when the seat has nothing to do', () => {
    const s = inPlay(['a', 'b']);
    expect(chooseCpuMove(viewFor(s, 'b'), CPU_PROFILES[0]!, simulationRng(1))).toBeNull();
  });
});

describe('the blunder checker', () => {
  it('catches each kind of blunder', () => {
    let s = inPlay(['a', 'b']);
    s = rig(s, { a: { cards: [c('3'), c('2'), c('K'), c('6'), c('7'), c('8')], up: [0, 1, 2, 4] } }, { deckTop: [c('2', 'hearts')], discardTop: c('Q', 'hearts') });
    const fromDeck = run(s, { type: 'draw', by: 'a', source: 'deck' }).state;
    expect(checkMove(viewFor(fromDeck, 'a'), { type: 'discard' }).map((b) => b.kind)).toEqual(['discarded_joker_or_two']);
    // Position 4 is below the face-up 2 at 1: pairing 2s.
    expect(checkMove(viewFor(fromDeck, 'a'), { type: 'swap', position: 4 }).map((b) => b.kind)).toContain('paired_negative_cards');
    expect(checkMove(viewFor(fromDeck, 'a'), { type: 'swap', position: 3 })).toEqual([]);
    const fromDiscard = run(s, { type: 'draw', by: 'a', source: 'discard' }).state;
    expect(checkMove(viewFor(fromDiscard, 'a'), { type: 'swap', position: 3 }).map((b) => b.kind)).toEqual(['took_high_card_without_pair']);
    // Replacing the face-up K (0) with a Q (10) is a good card swapped for a worse one.
    expect(checkMove(viewFor(fromDiscard, 'a'), { type: 'swap', position: 2 }).map((b) => b.kind)).toContain('swapped_good_for_worse');
  });
});
