import { decide } from '../game/decide.js';
import { emptyState, evolve } from '../game/evolve.js';
import type { PartialOptions } from '../game/options.js';
import { createHash } from 'node:crypto';
import { randomStream, type Entropy, type Rng } from '../game/randomness.js';
import type { GameCommand, GameEvent, GameState } from '../game/types.js';
import { viewFor, type GameView } from '../game/view.js';
import { chooseCpuMove, moveToCommand, type CpuMove } from './decide.js';
import { CPU_PROFILES, profileByName } from './profiles.js';

export interface SelfPlayObserver {
  /** Called before each CPU move with the seat's view and the move chosen. */
  beforeMove?(view: GameView, move: CpuMove, state: GameState): void;
  afterEvents?(state: GameState, events: GameEvent[]): void;
}

export interface SelfPlayResult {
  state: GameState;
  events: GameEvent[];
  moves: number;
}

/**
 * Plays a whole game of CPUs with the engine alone (no runtime): the simulation behind the
 * blunder check and the property tests. Deterministic for a given seed.
 */
export function playCpuGame(
  seed: number,
  playerCount: number,
  options: PartialOptions,
  observer: SelfPlayObserver = {},
  maxMoves = 20_000,
): SelfPlayResult {
  let state = emptyState();
  const events: GameEvent[] = [];
  const apply = (command: GameCommand): void => {
    const decision = decide(state, command, simulationEntropy('game', seed, state.seq));
    if (!decision.ok) throw new Error(`refused ${command.type}: ${decision.refusal.code} ${decision.refusal.message}`);
    for (const event of decision.events) state = evolve(state, event);
    events.push(...decision.events);
    observer.afterEvents?.(state, decision.events);
  };
  const seats = Array.from({ length: playerCount }, (_, i) => {
    const profile = CPU_PROFILES[(seed + i) % CPU_PROFILES.length]!;
    return { id: `cpu${i}`, name: profile.name, is_cpu: true, cpu_profile: profile.name, token_hash: null };
  });
  apply({ type: 'create_game', game_id: `g${seed}`, room: 'SIMU', host: seats[0]!, options });
  for (const seat of seats.slice(1)) apply({ type: 'join', seat });
  apply({ type: 'start_game', by: seats[0]!.id });
  let moves = 0;
  while (state.phase !== 'game_over') {
    if (moves++ > maxMoves) throw new Error(`game ${seed} did not end within ${maxMoves} moves`);
    if (state.phase === 'round_over') {
      apply({ type: 'next_round', by: null });
      continue;
    }
    const actor = state.phase === 'initial_flip' ? state.players.find((p) => !p.initial_flipped) : state.players.find((p) => p.id === state.current_player_id);
    if (!actor) throw new Error(`nobody to act in phase ${state.phase}`);
    const view = viewFor(state, actor.id);
    const profile = profileByName(actor.cpu_profile) ?? CPU_PROFILES[0]!;
    const move = chooseCpuMove(view, profile, randomStream(simulationEntropy('cpu', seed, state.seq), 'cpu_move'));
    if (!move) throw new Error(`CPU ${actor.id} has no move in phase ${state.phase} (must ${view.must})`);
    observer.beforeMove?.(view, move, state);
    apply(moveToCommand(move, actor.id));
  }
  return { state, events, moves };
}

/** Random option sets for the simulation, seeded. */
export function randomOptions(seed: number): PartialOptions {
  const rng = simulationRng('options', seed);
  const flag = () => rng.next() < 0.35;
  return {
    rounds: 1 + rng.int(3),
    initial_flips: rng.int(3) as 0 | 1 | 2,
    flip_mode: (['never', 'always', 'endgame'] as const)[rng.int(3)],
    use_jokers: flag(), lucky_swing: flag(), super_kings: flag(), ten_penny: flag(), one_eyed_jacks: flag(),
    knock_penalty: flag(), knock_bonus: flag(), underdog_bonus: flag(), tied_shame: flag(), blackjack: flag(),
    wolfpack: flag(), four_of_a_kind: flag(), eagle_eye: flag(), negative_pairs_keep_value: flag(),
    flip_as_action: flag(), knock_early: flag(),
  };
}


/**
 * Reproducible entropy for simulations, tests and load tools, from labels (sha256 of them).
 * Never the server's: a live room draws its entropy from the operating system's CSPRNG.
 */
export function simulationEntropy(...labels: Array<string | number>): Entropy {
  return createHash('sha256').update(labels.join('/')).digest('hex');
}

/** A reproducible random stream for simulations and tools (see simulationEntropy). */
export function simulationRng(...labels: Array<string | number>): Rng {
  return randomStream(simulationEntropy(...labels), 'cpu_move');
}
