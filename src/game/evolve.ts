import { buildShoe, cardKey, sameCard, type Card } from './cards.js';
import { DEFAULT_OPTIONS } from './option-defaults.js';
import { clonePlayer, cloneState, faceDownCount, findPlayer, ownPlayer } from './state.js';
import type { GameEvent, GameState, PlayerState } from './types.js';

/** An event that does not fit the state it is applied to: the log is corrupt. */
export class EventApplyError extends Error {
  override name = 'EventApplyError';
}

function fail(event: GameEvent, why: string): never {
  throw new EventApplyError(`cannot apply ${event.type} (player ${event.player_id ?? '-'}): ${why}`);
}

/** The state before any event: evolve's fold starts from here. */
export function emptyState(): GameState {
  return {
    game_id: '',
    room: '',
    host_id: '',
    options: { ...DEFAULT_OPTIONS },
    phase: 'lobby',
    round: 0,
    decks: 1,
    first_player_id: null,
    reshuffles: 0,
    players: [],
    deck: [],
    discard: [],
    current_player_id: null,
    drawn: null,
    pending_flip: null,
    finisher_id: null,
    turn: 0,
    winner_ids: [],
    replay_id: null,
    seq: 0,
  };
}

/** Applies one event. Pure: returns a new state and never touches the input. */
export function evolve(state: GameState, event: GameEvent): GameState {
  const s = cloneState(state);
  s.seq += 1;
  switch (event.type) {
    case 'game_created':
      s.game_id = event.data.game_id;
      s.room = event.data.room;
      s.host_id = event.player_id;
      s.options = { ...event.data.options };
      return s;
    case 'player_joined':
      if (findPlayer(s, event.player_id)) fail(event, 'seat already taken');
      s.players.push({
        id: event.player_id,
        name: event.data.name,
        is_cpu: event.data.is_cpu,
        cpu_profile: event.data.cpu_profile,
        token_hash: event.data.token_hash,
        replaced: false,
        hand: [],
        initial_flipped: false,
        round_score: null,
        total_score: 0,
        rounds_won: 0,
      });
      // A lobby whose host has gone gets the next human as host.
      if (!event.data.is_cpu && !findPlayer(s, s.host_id)) s.host_id = event.player_id;
      return s;
    case 'player_left':
      return applyLeave(s, event);
    case 'options_set':
      s.options = { ...event.data.options };
      return s;
    case 'game_started':
      s.decks = event.data.decks;
      return s;
    case 'round_started':
      return dealRound(s, event);
    case 'initial_flip': {
      const player = requirePlayer(s, event);
      for (const position of event.data.positions) slotAt(player, position, event).face_up = true;
      player.initial_flipped = true;
      if (s.players.every((p) => p.initial_flipped)) {
        s.phase = 'playing';
        s.current_player_id = s.first_player_id;
      }
      return s;
    }
    case 'card_drawn': {
      requireCurrent(s, event);
      if (event.data.source !== 'deck') s.discard = s.discard.slice();
      const card = event.data.source === 'deck' ? takeFromDeck(s, event) : s.discard.pop();
      if (!card || !sameCard(card, event.data.card)) fail(event, 'drawn card does not match the pile');
      s.drawn = { card, source: event.data.source };
      return s;
    }
    case 'card_swapped': {
      const player = requireCurrent(s, event);
      if (!s.drawn) fail(event, 'no drawn card');
      const slot = slotAt(player, event.data.position, event);
      if (!sameCard(slot.card, event.data.replaced)) fail(event, 'replaced card does not match');
      s.discard = [...s.discard, slot.card];
      player.hand[event.data.position] = { card: s.drawn.card, face_up: true };
      return endTurn(s, player);
    }
    case 'card_discarded': {
      const player = requireCurrent(s, event);
      if (!s.drawn || s.drawn.source !== 'deck') fail(event, 'no card drawn from the deck');
      s.discard = [...s.discard, s.drawn.card];
      s.drawn = null;
      s.pending_flip = flipAfterDiscard(s, player);
      return s.pending_flip ? s : endTurn(s, player);
    }
    case 'card_flipped':
    case 'flip_as_action': {
      const player = requireCurrent(s, event);
      const slot = slotAt(player, event.data.position, event);
      if (slot.face_up) fail(event, 'card already face up');
      slot.face_up = true;
      return endTurn(s, player);
    }
    case 'flip_skipped':
      return endTurn(s, requireCurrent(s, event));
    case 'knock_early': {
      const player = requireCurrent(s, event);
      for (const position of event.data.positions) slotAt(player, position, event).face_up = true;
      return endTurn(s, player);
    }
    case 'round_ended':
      s.players = s.players.map(clonePlayer);
      for (const player of s.players) {
        for (const slot of player.hand) slot.face_up = true;
        const score = event.data.scores[player.id];
        if (score === undefined) fail(event, `no score for ${player.id}`);
        player.round_score = score;
        player.total_score += score;
        if (event.data.round_winner_ids.includes(player.id)) player.rounds_won += 1;
      }
      s.phase = 'round_over';
      s.current_player_id = null;
      s.drawn = null;
      s.pending_flip = null;
      return s;
    case 'game_ended':
      s.phase = 'game_over';
      s.winner_ids = event.data.winner_ids.slice();
      s.replay_id = event.data.replay_id ?? null;
      return s;
  }
}

/** Replays a whole log from the empty state. */
export function replay(events: readonly GameEvent[], from: GameState = emptyState()): GameState {
  return events.reduce(evolve, from);
}

function applyLeave(s: GameState, event: Extract<GameEvent, { type: 'player_left' }>): GameState {
  const index = s.players.findIndex((p) => p.id === event.player_id);
  if (index < 0) fail(event, 'no such seat');
  if (s.phase === 'lobby') {
    s.players.splice(index, 1);
    if (s.host_id === event.player_id) {
      const nextHost = s.players.find((p) => !p.is_cpu);
      if (nextHost) s.host_id = nextHost.id;
    }
    return s;
  }
  // Mid-game the seat stays (turn order, scores); a CPU plays it from now on.
  const player = ownPlayer(s, index);
  player.is_cpu = true;
  player.cpu_profile = event.data.cpu_profile;
  player.replaced = true;
  player.token_hash = null;
  if (s.host_id === event.player_id) {
    const nextHost = s.players.find((p) => !p.is_cpu);
    if (nextHost) s.host_id = nextHost.id;
  }
  return s;
}

function dealRound(s: GameState, event: Extract<GameEvent, { type: 'round_started' }>): GameState {
  const { round, first_player_id: firstPlayerId } = event.data;
  const expected = buildShoe(s.decks, s.options.use_jokers, s.options.lucky_swing);
  if (!samePile(event.data.shoe, expected)) fail(event, 'the shoe is not the game\'s cards');
  if (!findPlayer(s, firstPlayerId)) fail(event, 'no such first player');
  const shoe = event.data.shoe.slice();
  s.phase = s.options.initial_flips > 0 ? 'initial_flip' : 'playing';
  s.round = round;
  s.reshuffles = 0;
  s.first_player_id = firstPlayerId;
  s.finisher_id = null;
  s.turn = 0;
  s.drawn = null;
  s.pending_flip = null;
  s.players = s.players.map(clonePlayer);
  for (const player of s.players) {
    player.hand = [];
    player.round_score = null;
    player.initial_flipped = s.options.initial_flips === 0;
  }
  for (let i = 0; i < 6; i++) {
    for (const player of s.players) player.hand.push({ card: shoe.pop() as Card, face_up: false });
  }
  s.discard = [shoe.pop() as Card];
  s.deck = shoe;
  s.current_player_id = s.phase === 'playing' ? firstPlayerId : null;
  return s;
}

/**
 * Takes the deck's top card; when that empties the deck, the discard pile but its top becomes
 * the deck in the order the event carries (shuffled by the decider).
 */
function takeFromDeck(s: GameState, event: Extract<GameEvent, { type: 'card_drawn' }>): Card | undefined {
  s.deck = s.deck.slice();
  const card = s.deck.pop();
  const reshuffled = event.data.reshuffled;
  if (s.deck.length === 0 && s.discard.length > 1) {
    const top = s.discard[s.discard.length - 1] as Card;
    s.discard = s.discard.slice(0, -1);
    if (!reshuffled || !samePile(reshuffled, s.discard)) fail(event, 'the reshuffled deck is not the discard pile');
    s.reshuffles += 1;
    s.deck = reshuffled.slice();
    s.discard = [top];
  } else if (reshuffled) {
    fail(event, 'a reshuffle where the deck was not emptied');
  }
  return card;
}

/** Whether two piles hold the same cards (in any order). */
function samePile(a: readonly Card[], b: readonly Card[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(cardKey).sort();
  const right = b.map(cardKey).sort();
  return left.every((key, i) => key === right[i]);
}

function flipAfterDiscard(s: GameState, player: PlayerState): 'required' | 'optional' | null {
  if (faceDownCount(player) === 0) return null;
  if (s.options.flip_mode === 'always') return 'required';
  if (s.options.flip_mode === 'endgame' && s.players.some((p) => faceDownCount(p) <= 1)) return 'optional';
  return null;
}

/**
 * Ends the current player's turn: the first to have six cards face up goes out; everyone
 * else gets one more turn (after which their hand is revealed); the round is complete when
 * the turn would come back to the player who went out (current_player_id becomes null and
 * the decider follows with round_ended).
 */
function endTurn(s: GameState, player: PlayerState): GameState {
  s.turn += 1;
  s.drawn = null;
  s.pending_flip = null;
  if (s.finisher_id === null) {
    if (faceDownCount(player) === 0) {
      s.finisher_id = player.id;
      s.phase = 'final_turn';
    }
  } else {
    for (const slot of player.hand) slot.face_up = true;
  }
  const index = s.players.findIndex((p) => p.id === player.id);
  const next = s.players[(index + 1) % s.players.length] as PlayerState;
  s.current_player_id = next.id === s.finisher_id ? null : next.id;
  return s;
}

/** The event's seat, copied so that evolve may change it (see ownPlayer). */
function requirePlayer(s: GameState, event: GameEvent): PlayerState {
  const index = s.players.findIndex((p) => p.id === event.player_id);
  if (index < 0) fail(event, 'no such seat');
  return ownPlayer(s, index);
}

function requireCurrent(s: GameState, event: GameEvent): PlayerState {
  if (s.current_player_id !== event.player_id) fail(event, 'not this player\'s turn');
  return requirePlayer(s, event);
}

function slotAt(player: PlayerState, position: number, event: GameEvent) {
  const slot = player.hand[position];
  if (!slot) fail(event, `no card at position ${position}`);
  return slot;
}
