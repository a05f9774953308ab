import { remove as removeConfusables } from 'confusables';
import { ZodError } from 'zod';
import { emptyState, evolve } from './evolve.js';
import { decksFor, mergeOptions, DEFAULT_OPTIONS } from './options.js';
import { buildShoe } from './cards.js';
import { randomId128, shuffled, type Entropy } from './randomness.js';
import { scoreRoundWith } from './scoring.js';
import { faceDownCount, findPlayer, isInPlay } from './state.js';
import {
  MAX_PLAYERS,
  MIN_PLAYERS,
  type Decision,
  type GameCommand,
  type GameEvent,
  type GameState,
  type PlayerState,
  type RefusalCode,
  type SeatSpec,
} from './types.js';

const refuse = (code: RefusalCode, message: string): Decision => ({ ok: false, refusal: { code, message } });

/**
 * The decider: a command against the state gives the events that follow, or a refusal that
 * changes nothing. Events that follow by the rules alone (a round that is complete ends; the
 * last round ends the game) are appended here, so evolve stays a plain fold.
 *
 * `entropy` (256 bits from the caller's CSPRNG) is where every shuffle comes from; what a
 * shuffle produced is written into its event, so evolve never draws anything.
 */
export function decide(state: GameState, command: GameCommand, entropy: Entropy): Decision {
  const primary = decidePrimary(state, command, entropy);
  if (!primary.ok) return primary;
  const events = primary.events;
  let next = events.reduce(evolve, state);
  if (isInPlay(next) && next.current_player_id === null) {
    const roundEnd = roundEndEvents(next, entropy);
    events.push(...roundEnd);
    next = roundEnd.reduce(evolve, next);
  }
  return { ok: true, events, state: next };
}

/**
 * "Play again": the events that open a NEW game (its own stream, from an empty state) at the
 * same table as a finished one: created with the same options by the same host, every seat
 * joined again as it is now (names, CPUs, the hashes of the humans' resume tokens, so their
 * tokens keep working), and started. `gameId` and `entropy` come from outside, as for any command.
 */
export function decideNextGame(state: GameState, by: string, gameId: string, entropy: Entropy): Decision {
  const host = findPlayer(state, by);
  if (!host) return refuse('unauthorized', 'you have no seat in this room');
  if (by !== state.host_id || host.is_cpu) return refuse('not_host', 'only the host can start a new game');
  if (state.phase !== 'game_over') return refuse('invalid_move', 'the game is not over yet');
  // A seat a CPU took over stays a CPU, and the human who left it gets no way back in.
  const seats: SeatSpec[] = state.players.map((p) => ({ id: p.id, name: p.name, is_cpu: p.is_cpu, cpu_profile: p.cpu_profile, token_hash: p.is_cpu ? null : p.token_hash }));
  const events: GameEvent[] = [
    { type: 'game_created', player_id: by, data: { game_id: gameId, room: state.room, options: { ...state.options } } },
    ...seats.map(joinEvent),
  ];
  const seated = events.reduce(evolve, emptyState());
  const start = decide(seated, { type: 'start_game', by }, entropy);
  if (!start.ok) return start;
  return { ok: true, events: [...events, ...start.events] };
}

function decidePrimary(state: GameState, command: GameCommand, entropy: Entropy): Decision {
  switch (command.type) {
    case 'create_game': {
      if (state.seq !== 0) return refuse('bad_request', 'the game already exists');
      const options = parseOptions(() => mergeOptions(DEFAULT_OPTIONS, command.options));
      if (!options.ok) return options.refusal;
      return ok(
        { type: 'game_created', player_id: command.host.id, data: { game_id: command.game_id, room: command.room, options: options.value } },
        joinEvent(command.host),
      );
    }
    case 'join':
      return seatNewPlayer(state, command.seat);
    case 'add_cpu': {
      const host = requireHostInLobby(state, command.by);
      return host ?? seatNewPlayer(state, command.seat);
    }
    case 'remove_player': {
      const host = requireHostInLobby(state, command.by);
      if (host) return host;
      if (command.player_id === command.by) return refuse('invalid_move', 'the host leaves with leave, not remove_player');
      if (!findPlayer(state, command.player_id)) return refuse('invalid_move', 'no such player in this room');
      return ok({ type: 'player_left', player_id: command.player_id, data: { removed_by: command.by, cpu_profile: null } });
    }
    case 'set_options': {
      const host = requireHostInLobby(state, command.by);
      if (host) return host;
      const options = parseOptions(() => mergeOptions(state.options, command.options));
      if (!options.ok) return options.refusal;
      // Options as they are already: nothing to record (a flood of them costs the store nothing).
      if (JSON.stringify(options.value) === JSON.stringify(state.options)) return ok();
      return ok({ type: 'options_set', player_id: command.by, data: { options: options.value } });
    }
    case 'start_game': {
      const host = requireHostInLobby(state, command.by);
      if (host) return host;
      if (state.players.length < MIN_PLAYERS) return refuse('invalid_move', `at least ${MIN_PLAYERS} players are needed to start`);
      const first = state.players[0] as PlayerState;
      const decks = decksFor(state.options, state.players.length);
      return ok(
        { type: 'game_started', player_id: command.by, data: { decks } },
        { type: 'round_started', player_id: null, data: { round: 1, first_player_id: first.id, shoe: dealtShoe(state, decks, entropy) } },
      );
    }
    case 'leave': {
      const player = findPlayer(state, command.by);
      if (!player) return refuse('unauthorized', 'you have no seat in this room');
      if (player.is_cpu) return refuse('invalid_move', 'this seat is already played by a CPU');
      return ok({
        type: 'player_left',
        player_id: command.by,
        data: { removed_by: null, cpu_profile: state.phase === 'lobby' ? null : command.cpu_profile },
      });
    }
    case 'flip_initial': {
      const player = findPlayer(state, command.by);
      if (!player) return refuse('unauthorized', 'you have no seat in this room');
      if (state.phase !== 'initial_flip') return refuse('invalid_move', 'not the initial flip phase');
      if (player.initial_flipped) return refuse('invalid_move', 'you have already flipped your initial cards');
      const positions = command.positions;
      if (positions.length !== state.options.initial_flips) {
        return refuse('invalid_move', `flip exactly ${state.options.initial_flips} card(s)`);
      }
      if (!positions.every(isPosition) || new Set(positions).size !== positions.length) {
        return refuse('invalid_move', 'positions must be distinct, 0 to 5');
      }
      return ok({ type: 'initial_flip', player_id: command.by, data: { positions: positions.slice() } });
    }
    case 'draw': {
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (state.drawn) return refuse('invalid_move', 'you already hold a drawn card');
      if (state.pending_flip) return refuse('invalid_move', 'flip a card (or skip) to end your turn');
      if (command.source === 'deck') {
        const card = state.deck[state.deck.length - 1];
        if (!card) return refuse('invalid_move', 'the deck is empty');
        // Taking the last card shuffles the discard pile (all but its top) back as the deck.
        if (state.deck.length === 1 && state.discard.length > 1) {
          const reshuffled = shuffled(state.discard.slice(0, -1), entropy, 'reshuffle');
          return ok({ type: 'card_drawn', player_id: command.by, data: { source: 'deck', card, reshuffled } });
        }
        return ok({ type: 'card_drawn', player_id: command.by, data: { source: 'deck', card } });
      }
      const card = state.discard[state.discard.length - 1];
      if (!card) return refuse('invalid_move', 'the discard pile is empty');
      return ok({ type: 'card_drawn', player_id: command.by, data: { source: 'discard', card } });
    }
    case 'swap': {
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (!state.drawn) return refuse('invalid_move', 'draw a card first');
      if (!isPosition(command.position)) return refuse('invalid_move', 'position must be 0 to 5');
      const replaced = (player.hand[command.position] as PlayerState['hand'][number]).card;
      return ok({ type: 'card_swapped', player_id: command.by, data: { position: command.position, card: state.drawn.card, replaced } });
    }
    case 'discard': {
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (!state.drawn) return refuse('invalid_move', 'draw a card first');
      if (state.drawn.source !== 'deck') return refuse('invalid_move', 'a card taken from the discard pile must be swapped');
      return ok({ type: 'card_discarded', player_id: command.by, data: { card: state.drawn.card } });
    }
    case 'flip': {
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (!state.pending_flip) return refuse('invalid_move', 'no flip is allowed now');
      const faceDown = faceDownAt(player, command.position);
      if (faceDown) return faceDown;
      return ok({ type: 'card_flipped', player_id: command.by, data: { position: command.position, card: (player.hand[command.position] as PlayerState['hand'][number]).card } });
    }
    case 'skip_flip': {
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (state.pending_flip !== 'optional') {
        return refuse('invalid_move', state.pending_flip === 'required' ? 'the flip is required' : 'there is no flip to skip');
      }
      return ok({ type: 'flip_skipped', player_id: command.by, data: {} });
    }
    case 'flip_action': {
      if (!state.options.flip_as_action) return refuse('invalid_move', 'flip_as_action is off in this game');
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (state.drawn || state.pending_flip) return refuse('invalid_move', 'flip as an action replaces drawing');
      const faceDown = faceDownAt(player, command.position);
      if (faceDown) return faceDown;
      return ok({ type: 'flip_as_action', player_id: command.by, data: { position: command.position, card: (player.hand[command.position] as PlayerState['hand'][number]).card } });
    }
    case 'knock_early': {
      if (!state.options.knock_early) return refuse('invalid_move', 'knock_early is off in this game');
      const player = requireTurn(state, command.by);
      if (!('id' in player)) return player;
      if (state.drawn || state.pending_flip) return refuse('invalid_move', 'knocking replaces drawing');
      const down = faceDownCount(player);
      if (down < 1 || down > 2) return refuse('invalid_move', 'knocking early needs 1 or 2 face-down cards');
      const positions = player.hand.flatMap((slot, i) => (slot.face_up ? [] : [i]));
      return ok({ type: 'knock_early', player_id: command.by, data: { positions } });
    }
    case 'next_round': {
      if (command.by !== null && command.by !== state.host_id) {
        return refuse(findPlayer(state, command.by) ? 'not_host' : 'unauthorized', 'only the host starts the next round');
      }
      if (state.phase !== 'round_over') return refuse('invalid_move', 'the round is not over');
      const round = state.round + 1;
      const first = state.players[(round - 1) % state.players.length] as PlayerState;
      return ok({ type: 'round_started', player_id: null, data: { round, first_player_id: first.id, shoe: dealtShoe(state, state.decks, entropy) } });
    }
  }
}

/** round_ended, and game_ended after the last round, for a round whose turns are all played. */
function roundEndEvents(state: GameState, entropy: Entropy): GameEvent[] {
  const scores = scoreRoundWith(
    state.players.map((p) => ({ id: p.id, cards: p.hand.map((slot) => slot.card) })),
    state.finisher_id,
    state.options,
  );
  const low = Math.min(...Object.values(scores));
  const events: GameEvent[] = [
    {
      type: 'round_ended',
      player_id: null,
      data: { round: state.round, scores, round_winner_ids: state.players.filter((p) => scores[p.id] === low).map((p) => p.id) },
    },
  ];
  if (state.round >= state.options.rounds) {
    const totals = Object.fromEntries(state.players.map((p) => [p.id, p.total_score + (scores[p.id] ?? 0)]));
    const best = Math.min(...Object.values(totals));
    events.push({
      type: 'game_ended',
      player_id: null,
      data: { winner_ids: state.players.filter((p) => totals[p.id] === best).map((p) => p.id), totals, replay_id: randomId128(entropy, 'replay_id') },
    });
  }
  return events;
}

/** A freshly shuffled shoe for a round (dealt from its end). */
function dealtShoe(state: GameState, decks: number, entropy: Entropy) {
  return shuffled(buildShoe(decks, state.options.use_jokers, state.options.lucky_swing), entropy, 'deal');
}

function ok(...events: GameEvent[]): Decision {
  return { ok: true, events };
}

function joinEvent(seat: SeatSpec): GameEvent {
  return {
    type: 'player_joined',
    player_id: seat.id,
    data: { name: seat.name, is_cpu: seat.is_cpu, cpu_profile: seat.cpu_profile, token_hash: seat.token_hash },
  };
}

function seatNewPlayer(state: GameState, seat: SeatSpec): Decision {
  if (state.phase !== 'lobby') return refuse('game_in_progress', 'the game has already started');
  if (state.players.length >= MAX_PLAYERS) return refuse('room_full', `the room has ${MAX_PLAYERS} players`);
  if (findPlayer(state, seat.id)) return refuse('bad_request', 'that seat id is taken');
  const wanted = nameKey(seat.name);
  if (state.players.some((p) => nameKey(p.name) === wanted)) return refuse('bad_request', `the name ${seat.name} is taken in this room; choose another`);
  return ok(joinEvent(seat));
}

/**
 * Names compare as players read them: compatibility-normalised, case-folded (final sigma too),
 * look-alike letters from other scripts taken to the Latin letter they imitate (Unicode's
 * confusables, through the `confusables` package), spaces collapsed.
 */
export function nameKey(name: string): string {
  const folded = name.normalize('NFKC').toLowerCase().replace(/ς/gu, 'σ');
  return removeConfusables(folded).toLowerCase().replace(/\s+/gu, ' ').trim();
}

function requireHostInLobby(state: GameState, by: string): Decision | null {
  if (!findPlayer(state, by)) return refuse('unauthorized', 'you have no seat in this room');
  if (by !== state.host_id) return refuse('not_host', 'only the host can do that');
  if (state.phase !== 'lobby') return refuse('game_in_progress', 'the game has already started');
  return null;
}

function requireTurn(state: GameState, by: string): PlayerState | Decision {
  const player = findPlayer(state, by);
  if (!player) return refuse('unauthorized', 'you have no seat in this room');
  if (!isInPlay(state)) return refuse('invalid_move', `no turns are played in the ${state.phase} phase`);
  if (state.current_player_id !== by) return refuse('not_your_turn', 'it is not your turn');
  return player;
}

function faceDownAt(player: PlayerState, position: number): Decision | null {
  if (!isPosition(position)) return refuse('invalid_move', 'position must be 0 to 5');
  if ((player.hand[position] as PlayerState['hand'][number]).face_up) return refuse('invalid_move', 'that card is already face up');
  return null;
}

function isPosition(position: number): boolean {
  return Number.isInteger(position) && position >= 0 && position <= 5;
}

function parseOptions<T>(parse: () => T): { ok: true; value: T } | { ok: false; refusal: Decision } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (error instanceof ZodError) {
      const issue = error.issues[0];
      return { ok: false, refusal: refuse('bad_request', `bad options: ${issue ? `${issue.path.join('.') || 'options'}: ${issue.message}` : 'invalid'}`) };
    }
    throw error;
  }
}
