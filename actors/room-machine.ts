/**
 * The room machine: one flat XState machine per room (no spawned or invoked children, so a
 * persisted snapshot restores exactly; see DESIGN.md's library notes).
 *
 * It takes no clock, randomness or IO: time (`now`) and entropy (256 bits from the runtime's
 * CSPRNG, for shuffles and CPU choices) arrive with events, and the
 * runtime executes what comes out. Domain events come out as emitted `domain` events; a
 * refused command emits `refused` and leaves the context as it was.
 *
 * Timers are absolute deadlines in context (`deadline`), recomputed after every transition;
 * the runtime arms a real timer from them after every transition and every restore, and sends
 * `tick` when one is due (XState's own `after` timers are not kept in persisted snapshots).
 */
import { createActor, enqueueActions, initialTransition, setup, type ActorScope, type SnapshotFrom } from 'xstate';
import { chooseCpuMove, CPU_PROFILES, moveToCommand, profileByName } from '../src/ai/index.js';
import {
  decide,
  decideNextGame,
  emptyState,
  evolve,
  findPlayer,
  nameKey,
  randomStream,
  viewFor,
  type Entropy,
  type GameCommand,
  type GameEvent,
  type GameState,
  type Phase,
  type RefusalCode,
} from '../src/game/index.js';
import type { RoomCommand } from './room-commands.js';

export type { RoomCommand } from './room-commands.js';

export interface Timing {
  cpu_think_ms: number;
  round_pause_ms: number;
  disconnect_grace_ms: number;
}

export interface Deadline {
  kind: 'cpu' | 'grace' | 'round';
  player_id: string | null;
  /** Identifies what the deadline waits for; an unchanged key keeps its time. */
  key: string;
  at: number;
}

export interface RoomContext {
  game: GameState;
  timing: Timing;
  /** Humans with at least one live connection. Not persisted: presence is per node. */
  connected: string[];
  deadline: Deadline | null;
  /** A human's turn that a CPU finishes for them after the disconnect grace period. */
  proxy: { player_id: string; round: number; turn: number } | null;
  /**
   * Recent command ids per player, with the room sequence after each and a fingerprint of the
   * command (absent for ids restored from older records): at-most-once, and an id reused for
   * another command is refused rather than taken for a retry.
   */
  applied: Record<string, AppliedId[]>;
}

export type AppliedId = [id: string, seq: number, fingerprint?: string];

export type RoomEvent =
  | { type: 'command'; player_id: string; command_id: string | null; command: RoomCommand; now: number; entropy: Entropy }
  | { type: 'tick'; now: number; entropy: Entropy }
  | { type: 'presence'; player_id: string; connected: boolean; now: number }
  | { type: 'configure'; timing: Timing; now: number };

export type RoomEmitted =
  | { type: 'domain'; event: GameEvent; command_id: string | null; player_id: string | null; fingerprint: string | null }
  | { type: 'refused'; code: RoomRefusalCode; message: string }
  | { type: 'duplicate'; seq: number }
  /**
   * "Play again": a new game at this table, with its own id and event stream. The old room's
   * context does not change; the runtime stores `events` as the new game's first ones and
   * hosts a room from `context` (in which the host's command id is already remembered).
   */
  | { type: 'next_game'; game_id: string; events: GameEvent[]; context: RoomContext; command_id: string | null; player_id: string; fingerprint: string | null };

export type RoomRefusalCode = RefusalCode | 'unknown_room';

/** How many command ids are remembered per player for at-most-once delivery. */
export const APPLIED_IDS_KEPT = 32;
/** The profile that plays a disconnected human's turn after the grace period. */
export const STAND_IN_PROFILE = 'Marcus';

export function initialRoomContext(timing: Timing): RoomContext {
  return { game: emptyState(), timing, connected: [], deadline: null, proxy: null, applied: {} };
}

/** The machine state for a game phase (the machine's states mirror the engine's phases). */
export function stateValueFor(phase: Phase, created: boolean): RoomStateValue {
  if (!created) return 'empty';
  switch (phase) {
    case 'lobby':
      return 'lobby';
    case 'round_over':
      return 'roundOver';
    case 'game_over':
      return 'gameOver';
    default:
      return 'playing';
  }
}

export type RoomStateValue = 'empty' | 'lobby' | 'playing' | 'roundOver' | 'gameOver';

type Outcome = { context: RoomContext; emitted: RoomEmitted[] };

function refused(context: RoomContext, code: RoomRefusalCode, message: string): Outcome {
  return { context, emitted: [{ type: 'refused', code, message }] };
}

interface Committing {
  command: GameCommand;
  /** The client's id and the fingerprint of what it sent, when a client sent it. */
  id: { command_id: string; fingerprint: string } | null;
  actor: string | null;
  now: number;
  entropy: Entropy;
}

/** Applies a decided command: folds the events, records the command id, re-plans the deadline. */
function commit(context: RoomContext, { command, id, actor, now, entropy }: Committing): Outcome {
  const decision = decide(context.game, command, entropy);
  if (!decision.ok) return refused(context, decision.refusal.code, decision.refusal.message);
  // decide folded the events already (to see whether the round ends): the same fold, not done twice.
  const game = decision.state ?? decision.events.reduce(evolve, context.game);
  const commandId = id?.command_id ?? null;
  const applied = id && actor ? rememberCommand(context.applied, actor, id.command_id, game.seq, id.fingerprint) : context.applied;
  const next = { ...context, game, applied };
  return {
    context: plan(next, now),
    emitted: decision.events.map((event) => ({ type: 'domain', event, command_id: commandId, player_id: actor, fingerprint: id?.fingerprint ?? null })),
  };
}

export function rememberCommand(applied: RoomContext['applied'], playerId: string, commandId: string, seq: number, fingerprint?: string): RoomContext['applied'] {
  const list = (applied[playerId] ?? []).filter(([id]) => id !== commandId);
  list.push(fingerprint === undefined ? [commandId, seq] : [commandId, seq, fingerprint]);
  return { ...applied, [playerId]: list.slice(-APPLIED_IDS_KEPT) };
}

/** A CPU's name, numbered if a seat already reads the same (as the decider compares names). */
function uniqueName(game: GameState, wanted: string): string {
  const taken = new Set(game.players.map((p) => nameKey(p.name)));
  if (!taken.has(nameKey(wanted))) return wanted;
  for (let i = 2; ; i++) if (!taken.has(nameKey(`${wanted} ${i}`))) return `${wanted} ${i}`;
}

/**
 * What the client asked for, as a short stable string: the command without the fields the
 * server fills in per attempt (new ids, token hashes), hashed with 32-bit FNV-1a. A retry of
 * the same command matches; another command under the same id does not.
 */
export function commandFingerprint(command: RoomCommand): string {
  const text = stableJson(command, FILLED_IN);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/** The fields of a command the server fills in per attempt: not part of what was asked. */
const FILLED_IN: ReadonlySet<string> = new Set(['new_player_id', 'token_hash', 'game_id', 'room']);

/**
 * JSON with object keys sorted (code-unit order) and undefined members left out, skipping the
 * top-level keys in `skip`. Written with loops, not entries/filter/sort/map/join (it runs on
 * every command); the text, and so every stored fingerprint, is what it always was.
 */
function stableJson(value: unknown, skip?: ReadonlySet<string>): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + stableJson(value[i]);
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || skip?.has(key)) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + stableJson(member);
  }
  return out + '}';
}

function randomProfile(entropy: Entropy) {
  return CPU_PROFILES[randomStream(entropy, 'cpu_profile').int(CPU_PROFILES.length)] ?? CPU_PROFILES[0]!;
}

function toGameCommand(context: RoomContext, by: string, command: RoomCommand, entropy: Entropy): GameCommand | { refusal: string } {
  switch (command.type) {
    case 'create_room':
      return {
        type: 'create_game',
        game_id: command.game_id,
        room: command.room,
        host: { id: by, name: command.name, is_cpu: false, cpu_profile: null, token_hash: command.token_hash },
        options: command.options,
      };
    case 'join_room':
      return { type: 'join', seat: { id: by, name: command.name, is_cpu: false, cpu_profile: null, token_hash: command.token_hash } };
    case 'add_cpu': {
      const profile = command.profile === null ? randomProfile(entropy) : profileByName(command.profile);
      if (!profile) return { refusal: `unknown CPU profile ${command.profile}; one of ${CPU_PROFILES.map((p) => p.name).join(', ')}` };
      return {
        type: 'add_cpu',
        by,
        seat: { id: command.new_player_id, name: uniqueName(context.game, profile.name), is_cpu: true, cpu_profile: profile.name, token_hash: null },
      };
    }
    case 'leave':
      return { type: 'leave', by, cpu_profile: randomProfile(entropy).name };
    case 'start_game':
      return { type: 'start_game', by };
    case 'next_round':
      return { type: 'next_round', by };
    case 'remove_player':
      return { type: 'remove_player', by, player_id: command.player_id };
    case 'set_options':
      return { type: 'set_options', by, options: command.options };
    default:
      return { ...command, by } as GameCommand;
  }
}

function onCommand(context: RoomContext, event: Extract<RoomEvent, { type: 'command' }>): Outcome {
  const fingerprint = event.command_id ? commandFingerprint(event.command) : null;
  const seen = event.command_id ? context.applied[event.player_id]?.find(([id]) => id === event.command_id) : undefined;
  if (seen) {
    if (seen[2] !== undefined && seen[2] !== fingerprint) {
      return refused(context, 'bad_request', 'that id was already used for a different command; use a new id for a new command');
    }
    return { context, emitted: [{ type: 'duplicate', seq: seen[1] }] };
  }
  const created = context.game.seq > 0;
  if (!created && event.command.type !== 'create_room') return refused(context, 'unknown_room', 'no such room');
  // A seat handed to a CPU (its human left) takes no more commands from that human's sessions.
  if (findPlayer(context.game, event.player_id)?.is_cpu) return refused(context, 'unauthorized', 'a CPU plays this seat now; you left it');
  if (event.command.type === 'next_game') return onNextGame(context, event, event.command.game_id, fingerprint);
  const command = toGameCommand(context, event.player_id, event.command, event.entropy);
  if ('refusal' in command) return refused(context, 'bad_request', command.refusal);
  const id = event.command_id && fingerprint ? { command_id: event.command_id, fingerprint } : null;
  return commit(context, { command, id, actor: event.player_id, now: event.now, entropy: event.entropy });
}

/** The host asks for a new game at the table: the new room's opening, computed here, stored by the runtime. */
function onNextGame(context: RoomContext, event: Extract<RoomEvent, { type: 'command' }>, gameId: string, fingerprint: string | null): Outcome {
  const decision = decideNextGame(context.game, event.player_id, gameId, event.entropy);
  if (!decision.ok) return refused(context, decision.refusal.code, decision.refusal.message);
  const game = decision.events.reduce(evolve, emptyState());
  // The ids the seats used in the finished game stay theirs: a command whose ack was lost as
  // that game ended, sent again now, is the retry it is (its effect is in what this game
  // started from, hence this game's opening sequence), not a new command of the new game.
  let applied: RoomContext['applied'] = {};
  for (const player of game.players) {
    for (const [id, , fp] of context.applied[player.id] ?? []) applied = rememberCommand(applied, player.id, id, game.seq, fp);
  }
  // They travel in the new game's first event too: a restore from its events alone (its
  // snapshot lost) remembers them as this context does (restore.ts).
  const carried = Object.keys(applied).length ? applied : null;
  const events = decision.events.map((e, i) => (i === 0 && e.type === 'game_created' && carried ? { ...e, data: { ...e.data, carried_ids: carried } } : e));
  if (event.command_id && fingerprint) applied = rememberCommand(applied, event.player_id, event.command_id, game.seq, fingerprint);
  const fresh = plan({ ...initialRoomContext(context.timing), game, connected: context.connected, applied }, event.now);
  return {
    context,
    emitted: [{ type: 'next_game', game_id: gameId, events, context: fresh, command_id: event.command_id, player_id: event.player_id, fingerprint }],
  };
}

function onTick(context: RoomContext, { now, entropy }: Extract<RoomEvent, { type: 'tick' }>): Outcome {
  const deadline = context.deadline;
  if (!deadline || now < deadline.at) return { context, emitted: [] };
  const game = context.game;
  if (deadline.kind === 'round') return commit(context, { command: { type: 'next_round', by: null }, id: null, actor: null, now, entropy });
  const actorId = deadline.player_id as string;
  const actor = findPlayer(game, actorId);
  if (!actor) return { context: plan({ ...context, deadline: null }, now), emitted: [] };
  let next = context;
  if (deadline.kind === 'grace' && game.phase !== 'initial_flip') {
    next = { ...context, proxy: { player_id: actorId, round: game.round, turn: game.turn } };
  }
  const profile = profileByName(actor.cpu_profile) ?? profileByName(STAND_IN_PROFILE)!;
  const move = chooseCpuMove(viewFor(game, actorId), profile, randomStream(entropy, 'cpu_move'));
  if (!move) return { context: plan({ ...next, deadline: null }, now), emitted: [] };
  return commit(next, { command: moveToCommand(move, actorId), id: null, actor: actorId, now, entropy });
}

/**
 * Decides what the room waits for next and when. A deadline whose key is unchanged keeps its
 * time, so unrelated transitions (someone else reconnecting) never postpone a CPU's move.
 */
export function plan(context: RoomContext, now: number): RoomContext {
  const wanted = nextWait(context);
  if (!wanted) return context.deadline === null ? context : { ...context, deadline: null };
  if (context.deadline && context.deadline.key === wanted.key) return context;
  return { ...context, deadline: { ...wanted, at: now + wanted.delay } };
}

function nextWait(context: RoomContext): (Omit<Deadline, 'at'> & { delay: number }) | null {
  const { game, timing } = context;
  const connected = new Set(context.connected);
  const proxyActive = (id: string) =>
    context.proxy !== null && context.proxy.player_id === id && context.proxy.round === game.round && context.proxy.turn === game.turn;
  switch (game.phase) {
    case 'round_over':
      return { kind: 'round', player_id: null, key: `round:${game.round}`, delay: timing.round_pause_ms };
    case 'initial_flip': {
      const cpu = game.players.find((p) => p.is_cpu && !p.initial_flipped);
      if (cpu) return { kind: 'cpu', player_id: cpu.id, key: `cpu:${cpu.id}:${game.seq}`, delay: timing.cpu_think_ms };
      const away = game.players.find((p) => !p.is_cpu && !p.initial_flipped && !connected.has(p.id));
      if (away) return { kind: 'grace', player_id: away.id, key: `grace:${away.id}:${game.round}:flip`, delay: timing.disconnect_grace_ms };
      return null;
    }
    case 'playing':
    case 'final_turn': {
      const current = findPlayer(game, game.current_player_id);
      if (!current) return null;
      if (current.is_cpu || proxyActive(current.id)) {
        return { kind: 'cpu', player_id: current.id, key: `cpu:${current.id}:${game.seq}`, delay: timing.cpu_think_ms };
      }
      if (!connected.has(current.id)) {
        return { kind: 'grace', player_id: current.id, key: `grace:${current.id}:${game.round}:${game.turn}`, delay: timing.disconnect_grace_ms };
      }
      return null;
    }
    default:
      return null;
  }
}

function onPresence(context: RoomContext, event: Extract<RoomEvent, { type: 'presence' }>): Outcome {
  const others = context.connected.filter((id) => id !== event.player_id);
  const connected = event.connected ? [...others, event.player_id].sort() : others;
  return { context: plan({ ...context, connected }, event.now), emitted: [] };
}

/** One step of the room: the outcome of an event, as context changes and emitted events. */
function outcomeOf(context: RoomContext, event: RoomEvent): Outcome {
  switch (event.type) {
    case 'command':
      return onCommand(context, event);
    case 'tick':
      return onTick(context, event);
    case 'presence':
      return onPresence(context, event);
    case 'configure': {
      // The timing may change across a restart; the deadline is re-planned from now. But a
      // CPU's move or a round's start that was due sooner keeps its time: a room restored after
      // its node died, or after PostgreSQL came back, does not make its players wait a whole
      // think or pause again (a disconnected player's grace, though, starts afresh).
      const replanned = plan({ ...context, timing: event.timing, deadline: null }, event.now);
      const before = context.deadline;
      const after = replanned.deadline;
      if (before && after && before.kind !== 'grace' && before.key === after.key && before.at < after.at) {
        return { context: { ...replanned, deadline: { ...after, at: before.at } }, emitted: [] };
      }
      return { context: replanned, emitted: [] };
    }
  }
}

const phaseIs = (...phases: Phase[]) => ({ context }: { context: RoomContext }) => phases.includes(context.game.phase);

export const roomMachine = setup({
  types: {} as {
    context: RoomContext;
    events: RoomEvent;
    emitted: RoomEmitted;
    input: { timing: Timing };
  },
  actions: {
    step: enqueueActions(({ context, event, enqueue }) => {
      const outcome = outcomeOf(context, event);
      if (outcome.context !== context) enqueue.assign(() => outcome.context);
      for (const emitted of outcome.emitted) enqueue.emit(emitted);
    }),
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => initialRoomContext(input.timing),
  initial: 'empty',
  on: {
    command: { actions: 'step' },
    presence: { actions: 'step' },
    configure: { actions: 'step' },
  },
  states: {
    empty: {
      always: { guard: ({ context }) => context.game.seq > 0, target: 'lobby' },
    },
    lobby: {
      always: { guard: phaseIs('initial_flip', 'playing', 'final_turn'), target: 'playing' },
    },
    playing: {
      on: { tick: { actions: 'step' } },
      always: [
        { guard: phaseIs('game_over'), target: 'gameOver' },
        { guard: phaseIs('round_over'), target: 'roundOver' },
      ],
    },
    roundOver: {
      on: { tick: { actions: 'step' } },
      always: [
        { guard: phaseIs('game_over'), target: 'gameOver' },
        { guard: phaseIs('initial_flip', 'playing', 'final_turn'), target: 'playing' },
      ],
    },
    // Not a final state: players still resume and look at the standings.
    gameOver: {},
  },
});

export type RoomMachine = typeof roomMachine;

export type RoomSnapshot = SnapshotFrom<RoomMachine>;

/** The actions of the step in progress (stepRoom runs one step at a time, synchronously). */
let stepActions: Array<{ type: string; params?: unknown }> = [];

/**
 * The inert actor scope every step runs in: what XState's `transition(machine, snapshot, event)`
 * builds afresh on every call (an actor, its system, and the machine's initial snapshot, which
 * was a fifth of a move's CPU in the profile), built once. It executes nothing: actions are
 * collected into `stepActions`, as `transition` collects them. The machine spawns no children,
 * so nothing else of the scope is ever used.
 */
const inertScope = (() => {
  const self = createActor(roomMachine, { input: { timing: { cpu_think_ms: 0, round_pause_ms: 0, disconnect_grace_ms: 0 } } });
  return {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: { type: string; params?: unknown }) => {
      stepActions.push(action);
    },
  } as unknown as ActorScope<RoomSnapshot, RoomEvent>;
})();

/**
 * One pure step: XState's `transition` (in a scope built once), with the emitted events picked
 * out of the actions. The runtime executes the rest (persisting, acking, pushing views, arming
 * the timer).
 */
export function stepRoom(snapshot: RoomSnapshot, event: RoomEvent): { snapshot: RoomSnapshot; emitted: RoomEmitted[] } {
  stepActions = [];
  const next = roomMachine.transition(snapshot, event, inertScope as never);
  const actions = stepActions;
  stepActions = [];
  const emitted: RoomEmitted[] = [];
  for (const action of actions) {
    if (action.type === 'xstate.emit') emitted.push((action.params as { event: RoomEmitted }).event);
  }
  return { snapshot: next, emitted };
}

export function newRoomSnapshot(timing: Timing): RoomSnapshot {
  return initialTransition(roomMachine, { timing })[0];
}

/** Rebuilds a snapshot from a context (after a restore from Redis or a replay of events). */
export function restoreRoomSnapshot(context: RoomContext): RoomSnapshot {
  return roomMachine.resolveState({ value: stateValueFor(context.game.phase, context.game.seq > 0), context });
}
