import fc from 'fast-check';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { decide, emptyState, evolve, viewFor, type GameState, type PartialOptions } from '../../src/game/index.js';
import { simulationRng } from '../../src/ai/selfplay.js';
import { ViewFanout } from '../../src/runtime/view-fanout.js';
import { legalCommands } from '../support/legal.js';
import { seat, testEntropy } from '../support/game.js';

/** The states of a random game of `players` seats, one per command. */
function playRandom(options: PartialOptions, players: number, seed: number): GameState[] {
  const rng = simulationRng('fanout', seed);
  const ids = Array.from({ length: players }, (_, i) => `p${i}`);
  let state = emptyState();
  const states: GameState[] = [];
  const apply = (command: Parameters<typeof decide>[1]) => {
    const d = decide(state, command, testEntropy(seed, state.seq));
    if (!d.ok) throw new Error(`legal command refused: ${command.type} ${d.refusal.message}`);
    for (const e of d.events) state = evolve(state, e);
    states.push(state);
  };
  apply({ type: 'create_game', game_id: 'g', room: 'ROOM', host: seat(ids[0]!), options });
  for (const id of ids.slice(1)) apply({ type: 'join', seat: seat(id) });
  apply({ type: 'start_game', by: ids[0]! });
  for (let i = 0; state.phase !== 'game_over' && i < 5000; i++) {
    const legal = legalCommands(state);
    apply(legal[rng.int(legal.length)]!);
  }
  return states;
}

/** The value at a JSON pointer of a document (undefined when the path is not there). */
function at(doc: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

describe('view fan-out', () => {
  it('a viewer applying the patches holds exactly its view at every change; a patch carries only what that view shows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1e9 }), fc.boolean(), (players, seed, jokers) => {
        const states = playRandom({ rounds: 2, use_jokers: jokers, flip_mode: 'always' }, players, seed);
        const fanout = new ViewFanout();
        const viewers = [...Array.from({ length: players }, (_, i) => `p${i}`), null];
        const held = new Map<string | null, { id: number; view: unknown }>();
        // Presence changes too (a view changes with nobody's move).
        let connected: string[] = [];
        states.forEach((state, i) => {
          if (i % 5 === 0) connected = i % 10 === 0 ? ['p0'] : ['p0', 'p1'];
          const views = fanout.views(state, state.seq, connected);
          expect(fanout.views(state, state.seq, connected)).toBe(views);
          for (const viewer of viewers) {
            const update = views.for(viewer);
            const expected = JSON.parse(JSON.stringify(viewFor(state, viewer, new Set(connected))));
            expect(JSON.parse(update.state)).toEqual(expected);
            // The very text: the public part in viewFor's order (parts of it are taken from the
            // change before), then the personal fields.
            const { you, must, drawn_card, replay_id, ...shared } = expected as Record<string, unknown>;
            expect(update.state).toBe(JSON.stringify({ ...shared, you, must, drawn_card, replay_id }));
            const mine = held.get(viewer);
            if (mine) {
              expect(update.patch?.prior).toBe(mine.id);
              const ops = JSON.parse(update.patch!.ops) as Operation[];
              // Every value a patch carries is in the view it leads to, at that place.
              for (const op of ops) if ('value' in op) expect(at(expected, op.path)).toEqual(op.value);
              const next = jsonPatch.applyPatch(mine.view, ops, true, false).newDocument;
              expect(next).toEqual(expected);
            }
            held.set(viewer, { id: update.id!, view: expected });
          }
        });
      }),
      { numRuns: 15 },
    );
  });
});
