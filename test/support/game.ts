import {
  decide,
  emptyState,
  evolve,
  type Card,
  type Entropy,
  type GameCommand,
  type GameEvent,
  type GameState,
  type PartialOptions,
  type Rank,
  type Suit,
} from '../../src/game/index.js';
import { simulationEntropy } from '../../src/ai/selfplay.js';

/** Reproducible entropy for a test step (a live room gets 256 bits from the CSPRNG instead). */
export const testEntropy = (...labels: Array<string | number>): Entropy => simulationEntropy('test', ...labels);

export const seat = (id: string, is_cpu = false) => ({ id, name: id.toUpperCase(), is_cpu, cpu_profile: is_cpu ? 'Sofia' : null, token_hash: null });

/** Applies a command that must be accepted; returns the new state and its events. */
export function run(state: GameState, command: GameCommand, entropy: Entropy = testEntropy(state.seq)): { state: GameState; events: GameEvent[] } {
  const decision = decide(state, command, entropy);
  if (!decision.ok) throw new Error(`refused ${command.type}: ${decision.refusal.code}: ${decision.refusal.message}`);
  return { state: decision.events.reduce(evolve, state), events: decision.events };
}

export function runAll(state: GameState, commands: GameCommand[]): GameState {
  return commands.reduce((s, c) => run(s, c).state, state);
}

/** The refusal code of a command that must be refused. */
export function refusal(state: GameState, command: GameCommand): string {
  const decision = decide(state, command, testEntropy(state.seq));
  if (decision.ok) throw new Error(`expected ${command.type} to be refused`);
  return decision.refusal.code;
}

export function lobby(players: string[], options: PartialOptions = {}): GameState {
  let state = run(emptyState(), { type: 'create_game', game_id: 'g1', room: 'ABCD', host: seat(players[0]!), options }).state;
  for (const id of players.slice(1)) state = run(state, { type: 'join', seat: seat(id) }).state;
  return state;
}

export function started(players: string[], options: PartialOptions = {}, seed = 42): GameState {
  return run(lobby(players, options), { type: 'start_game', by: players[0]! }, testEntropy('deal', seed)).state;
}

/** A started game past the initial flip (each player flips the first positions). */
export function inPlay(players: string[], options: PartialOptions = {}, seed = 42): GameState {
  let state = started(players, options, seed);
  const n = state.options.initial_flips;
  if (n > 0) for (const id of players) state = run(state, { type: 'flip_initial', by: id, positions: [0, 1].slice(0, n) }).state;
  return state;
}

export const c = (rank: Rank, suit: Suit = 'clubs', deck = 0): Card => ({ rank, suit, deck });

/** Rigs hands (face-down unless listed in `up`), and optionally the top of the deck and discard. */
export function rig(
  state: GameState,
  hands: Record<string, { cards: Card[]; up?: number[] }>,
  piles: { deckTop?: Card[]; discardTop?: Card } = {},
): GameState {
  const s = structuredClone(state);
  for (const [id, hand] of Object.entries(hands)) {
    const player = s.players.find((p) => p.id === id)!;
    player.hand = hand.cards.map((card, i) => ({ card, face_up: (hand.up ?? []).includes(i) }));
  }
  // Rigged tops are placed on the piles (top is the last element).
  if (piles.deckTop) s.deck.push(...piles.deckTop.slice().reverse());
  if (piles.discardTop) s.discard.push(piles.discardTop);
  return s;
}

/** Every card in play: deck, discard pile, hands and the drawn card. */
export function allCards(state: GameState): Card[] {
  return [...state.deck, ...state.discard, ...state.players.flatMap((p) => p.hand.map((slot) => slot.card)), ...(state.drawn ? [state.drawn.card] : [])];
}
