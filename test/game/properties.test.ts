import { ViewFanout } from '../../src/runtime/view-fanout.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildShoe,
  cardKey,
  decide,
  emptyState,
  evolve,
  viewFor,
  type GameEvent,
  type GameState,
  type PartialOptions,
} from '../../src/game/index.js';
import { legalCommands } from '../support/legal.js';
import { allCards, seat, testEntropy } from '../support/game.js';
import { simulationRng } from '../../src/ai/selfplay.js';

const optionsArb: fc.Arbitrary<PartialOptions> = fc.record({
  rounds: fc.integer({ min: 1, max: 2 }),
  decks: fc.constantFrom(null, 1, 2, 3),
  initial_flips: fc.constantFrom(0 as const, 1 as const, 2 as const),
  flip_mode: fc.constantFrom('never' as const, 'always' as const, 'endgame' as const),
  use_jokers: fc.boolean(),
  lucky_swing: fc.boolean(),
  flip_as_action: fc.boolean(),
  knock_early: fc.boolean(),
  super_kings: fc.boolean(),
  tied_shame: fc.boolean(),
  knock_penalty: fc.boolean(),
  four_of_a_kind: fc.boolean(),
});

/** Finds every rank/suit of a hidden card in a serialized view, if any leaked. */
function hiddenCardsLeaked(state: GameState, viewerId: string): string[] {
  const view = viewFor(state, viewerId);
  const leaks: string[] = [];
  state.players.forEach((player, i) => {
    player.hand.forEach((slot, j) => {
      const shown = view.players[i]!.cards[j]!;
      if (!slot.face_up && ('rank' in shown || 'suit' in shown)) leaks.push(`${player.id}[${j}]`);
    });
  });
  const text = JSON.stringify(view);
  if (state.drawn && state.current_player_id !== viewerId && view.drawn_card !== null) leaks.push('drawn card');
  if (/"deck":\s*\[/.test(text)) leaks.push('deck order');
  for (const key of ['token_hash', 'shoe', 'reshuffled', 'entropy']) if (text.includes(key)) leaks.push(key);
  return leaks;
}

interface Played {
  states: GameState[];
  events: GameEvent[];
  ended: boolean;
}

function playRandom(options: PartialOptions, playerCount: number, seed: number, moveSeed: number): Played {
  const rng = simulationRng('moves', moveSeed);
  const ids = Array.from({ length: playerCount }, (_, i) => `p${i}`);
  let state = emptyState();
  const events: GameEvent[] = [];
  const states: GameState[] = [];
  const apply = (command: Parameters<typeof decide>[1]) => {
    const d = decide(state, command, testEntropy(seed, state.seq));
    if (!d.ok) throw new Error(`legal command refused: ${command.type} ${d.refusal.message}`);
    const before = state;
    for (const e of d.events) state = evolve(state, e);
    // The state decide hands back (the room takes it rather than folding again) is the fold.
    if (d.state) expect(d.state).toEqual(state);
    else expect(before.seq).toBe(0);
    events.push(...d.events);
    states.push(state);
  };
  apply({ type: 'create_game', game_id: 'g', room: 'ROOM', host: seat(ids[0]!), options });
  for (const id of ids.slice(1)) apply({ type: 'join', seat: seat(id) });
  apply({ type: 'start_game', by: ids[0]! });
  let i = 0;
  while (state.phase !== 'game_over' && i < 20_000) {
    const legal = legalCommands(state);
    apply(legal[rng.int(legal.length)]!);
    i++;
  }
  return { states, events, ended: state.phase === 'game_over' };
}

describe('random legal games (property)', () => {
  const gameArb = fc.record({
    options: optionsArb,
    players: fc.integer({ min: 2, max: 6 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
    moveSeed: fc.integer({ min: 0, max: 2 ** 31 }),
  });

  it('every game ends, cards are conserved, and replay equals the live state', () => {
    fc.assert(
      fc.property(gameArb, ({ options, players, seed, moveSeed }) => {
        const played = playRandom(options, players, seed, moveSeed);
        expect(played.ended).toBe(true);
        for (const state of played.states) {
          if (state.phase === 'lobby') continue;
          const shoe = buildShoe(state.decks, state.options.use_jokers, state.options.lucky_swing).map(cardKey).sort();
          expect(allCards(state).map(cardKey).sort()).toEqual(shoe);
        }
        expect(played.events.reduce(evolve, emptyState())).toEqual(played.states[played.states.length - 1]);
      }),
      { numRuns: 40 },
    );
  });

  it('evolve never changes a state it was given (it shares what an event does not touch)', () => {
    fc.assert(
      fc.property(gameArb, ({ options, players, seed, moveSeed }) => {
        const played = playRandom(options, players, seed, moveSeed);
        const states = [emptyState()];
        const texts = [JSON.stringify(states[0])];
        for (const event of played.events) {
          const next = evolve(states[states.length - 1]!, event);
          states.push(next);
          texts.push(JSON.stringify(next));
        }
        // Every earlier state still reads as it did when it was made, after all later events.
        states.forEach((state, i) => expect(JSON.stringify(state)).toBe(texts[i]));
      }),
      { numRuns: 20 },
    );
  });

  it('the views the room sends (built once per change) equal each seat\'s view and the public one', () => {
    fc.assert(
      fc.property(gameArb, ({ options, players, seed, moveSeed }) => {
        const played = playRandom(options, players, seed, moveSeed);
        for (const state of played.states.filter((_, i) => i % 7 === 0)) {
          const connected = new Set([state.players[0]!.id]);
          const views = new ViewFanout().views(state, state.seq, [...connected]);
          for (const viewer of [...state.players.map((p) => p.id), null]) {
            expect(JSON.parse(views.for(viewer).state)).toEqual(viewFor(state, viewer, connected));
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it('no view ever shows a face-down card, the deck order, another player\'s drawn card or a secret', () => {
    fc.assert(
      fc.property(gameArb, ({ options, players, seed, moveSeed }) => {
        const played = playRandom(options, players, seed, moveSeed);
        for (const state of played.states) {
          for (const viewer of [...state.players.map((x) => x.id), null]) {
            expect(hiddenCardsLeaked(state, viewer as string)).toEqual([]);
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});
