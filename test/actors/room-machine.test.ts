import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { commandFingerprint, newRoomSnapshot, restoreRoomSnapshot, roomMachine, stateValueFor, stepRoom, type RoomEmitted, type RoomEvent, type RoomSnapshot } from '../../actors/room-machine.js';
import type { RoomCommand } from '../../actors/room-commands.js';
import { replay, type GameEvent } from '../../src/game/index.js';
import { testEntropy } from '../support/game.js';
import { rebuildContext } from '../../src/runtime/restore.js';
import type { EventRecord } from '../../src/stores/event-store.js';

const timing = { cpu_think_ms: 100, round_pause_ms: 1000, disconnect_grace_ms: 5000 };

class Room {
  snap: RoomSnapshot;
  events: GameEvent[] = [];
  last: RoomEmitted[] = [];
  constructor() {
    this.snap = newRoomSnapshot(timing);
  }
  send(event: RoomEvent): RoomEmitted[] {
    const { snapshot, emitted } = stepRoom(this.snap, event);
    this.snap = snapshot;
    this.last = emitted;
    for (const e of this.last) if (e.type === 'domain') this.events.push(e.event);
    return this.last;
  }
  cmd(player: string, command: RoomCommand, now = 0, id: string | null = null, entropy = testEntropy('room', this.snap.context.game.seq)) {
    return this.send({ type: 'command', player_id: player, command_id: id, command, now, entropy });
  }
  get ctx() {
    return this.snap.context;
  }
}

function lobbyRoom(): Room {
  const room = new Room();
  room.cmd('h', { type: 'create_room', name: 'Host', options: { rounds: 1 }, game_id: 'g1', room: 'ABCD', token_hash: 'x' });
  room.send({ type: 'presence', player_id: 'h', connected: true, now: 0 });
  return room;
}

describe('room machine', () => {
  it('starts empty and refuses anything but create_room with unknown_room', () => {
    const room = new Room();
    expect(room.snap.value).toBe('empty');
    expect(room.cmd('x', { type: 'start_game' })).toEqual([{ type: 'refused', code: 'unknown_room', message: 'no such room' }]);
  });

  it('creates a room into the lobby, emitting domain events', () => {
    const room = lobbyRoom();
    expect(room.snap.value).toBe('lobby');
    expect(room.events.map((e) => e.type)).toEqual(['game_created', 'player_joined']);
  });

  it('a refused command changes nothing and says why', () => {
    const room = lobbyRoom();
    const before = room.snap.context;
    expect(room.cmd('h', { type: 'start_game' })[0]).toMatchObject({ type: 'refused', code: 'invalid_move' });
    expect(room.snap.context).toBe(before);
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Nobody', new_player_id: 'c1' })[0]).toMatchObject({ type: 'refused', code: 'bad_request' });
  });

  it('applies a command id at most once', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c1' }, 0, 'cmd-1');
    expect(room.ctx.game.players).toHaveLength(2);
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c2' }, 0, 'cmd-1')).toEqual([{ type: 'duplicate', seq: 3 }]);
    expect(room.ctx.game.players).toHaveLength(2);
  });

  it('fingerprints commands as it always has (they are stored with events and snapshots, and compared on every retry)', () => {
    // Values from the first implementation (entries, filter, sort, map, join): a change here
    // would refuse, after an upgrade, retries of commands applied before it.
    const known: Array<[RoomCommand, string]> = [
      [{ type: 'draw', source: 'deck' }, 'g1hv1l'],
      [{ type: 'swap', position: 3 }, 'qe5a8u'],
      [{ type: 'discard' }, 'dnil19'],
      [{ type: 'flip_initial', positions: [0, 5] }, '167u4ac'],
      [{ type: 'create_room', name: 'Ann', options: { rounds: 9, use_jokers: true, flip_mode: 'always', b: undefined } as never, game_id: 'g1', room: 'ABCD', token_hash: 'xx' }, '12cutpv'],
      [{ type: 'add_cpu', profile: null, new_player_id: 'cpu-1' }, '1p8zmo3'],
      [{ type: 'set_options', options: { z: 1, a: [1, null, 'é'], ü: { y: 2, x: 'q' } } as never }, '4l636z'],
      [{ type: 'join_room', name: 'Bob "the" \\ ü', token_hash: 't' }, 'bhxhmo'],
    ];
    for (const [command, fingerprint] of known) expect(commandFingerprint(command)).toBe(fingerprint);
  });

  it('refuses an id reused for a different command, and changes nothing', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c1' }, 0, 'cmd-1');
    const before = room.snap.context;
    expect(room.cmd('h', { type: 'set_options', options: { rounds: 3 } }, 0, 'cmd-1')).toEqual([
      { type: 'refused', code: 'bad_request', message: expect.stringMatching(/already used for a different command/) },
    ]);
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Kenji', new_player_id: 'c3' }, 0, 'cmd-1')[0]).toMatchObject({ type: 'refused', code: 'bad_request' });
    expect(room.snap.context).toBe(before);
    // The same command again (with new server-side ids) is still a retry.
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c9' }, 0, 'cmd-1')).toEqual([{ type: 'duplicate', seq: 3 }]);
  });

  it('a seat handed to a CPU refuses its former human on every session', () => {
    const room = lobbyRoom();
    room.cmd('g', { type: 'join_room', name: 'Guest', token_hash: 'y' });
    room.cmd('h', { type: 'start_game' });
    expect(room.cmd('g', { type: 'leave' })[0]).toMatchObject({ type: 'domain' });
    expect(room.ctx.game.players.find((p) => p.id === 'g')?.is_cpu).toBe(true);
    const before = room.snap.context;
    for (const command of [{ type: 'flip_initial', positions: [0, 1] }, { type: 'leave' }, { type: 'draw', source: 'deck' }] as RoomCommand[]) {
      expect(room.cmd('g', command)[0]).toMatchObject({ type: 'refused', code: 'unauthorized' });
    }
    expect(room.snap.context).toBe(before);
  });

  it('refuses a second player with a name already taken in the room (as players read it)', () => {
    const room = lobbyRoom();
    for (const name of ['Host', 'host', ' HOST', 'Ｈｏｓｔ']) {
      expect(room.cmd('g', { type: 'join_room', name, token_hash: 'y' })[0]).toMatchObject({ type: 'refused', code: 'bad_request', message: expect.stringMatching(/taken/) });
    }
    expect(room.cmd('g', { type: 'join_room', name: 'Guest', token_hash: 'y' })[0]).toMatchObject({ type: 'domain' });
  });

  it('CPUs play on tick at their deadline; early ticks do nothing', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Sofia', new_player_id: 'c1' });
    room.cmd('h', { type: 'start_game' }, 1000);
    expect(room.snap.value).toBe('playing');
    expect(room.ctx.deadline).toMatchObject({ kind: 'cpu', player_id: 'c1', at: 1100 });
    expect(room.send({ type: 'tick', now: 1050, entropy: testEntropy('tick', 1050) })).toEqual([]);
    const out = room.send({ type: 'tick', now: 1100, entropy: testEntropy('tick', 1100) });
    expect(out.map((e) => e.type)).toEqual(['domain']);
    expect(room.ctx.game.players[1]!.initial_flipped).toBe(true);
    expect(room.ctx.deadline).toBeNull(); // waiting for the human
  });

  it('unrelated transitions keep a deadline; a disconnected human\'s turn is played after the grace period', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Sofia', new_player_id: 'c1' });
    room.cmd('h', { type: 'start_game' }, 0);
    room.send({ type: 'tick', now: 100, entropy: testEntropy('tick', 100) });
    room.cmd('h', { type: 'flip_initial', positions: [0, 1] }, 200);
    expect(room.ctx.game.current_player_id).toBe('h');
    room.send({ type: 'presence', player_id: 'h', connected: false, now: 300 });
    expect(room.ctx.deadline).toMatchObject({ kind: 'grace', player_id: 'h', at: 5300 });
    room.send({ type: 'presence', player_id: 'zz', connected: true, now: 400 });
    expect(room.ctx.deadline?.at).toBe(5300);
    room.send({ type: 'tick', now: 5300, entropy: testEntropy('tick', 5300) });
    expect(room.ctx.game.drawn).not.toBeNull();
    // The stand-in finishes the turn after the think time.
    expect(room.ctx.deadline).toMatchObject({ kind: 'cpu', player_id: 'h', at: 5400 });
    room.send({ type: 'tick', now: 5400, entropy: testEntropy('tick', 5400) });
    expect(room.ctx.game.current_player_id).toBe('c1');
  });

  it('a restore (configure) keeps a CPU\'s move that was due sooner, but starts a disconnected player\'s grace afresh', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Sofia', new_player_id: 'c1' });
    room.cmd('h', { type: 'start_game' }, 1000);
    expect(room.ctx.deadline).toMatchObject({ kind: 'cpu', player_id: 'c1', at: 1100 });
    // Restored 50 ms into the CPU's think: it moves at 1100, not at 1150.
    room.send({ type: 'configure', timing, now: 1050 });
    expect(room.ctx.deadline).toMatchObject({ kind: 'cpu', player_id: 'c1', at: 1100 });
    // Restored long after (the node died, PostgreSQL was down): the move is overdue, not thought again.
    room.send({ type: 'configure', timing, now: 9000 });
    expect(room.ctx.deadline?.at).toBe(1100);
    // A slower timing since does not postpone it either; a quicker one brings it forward.
    room.send({ type: 'configure', timing: { ...timing, cpu_think_ms: 10 }, now: 1000 });
    expect(room.ctx.deadline?.at).toBe(1010);
    room.send({ type: 'tick', now: 1100, entropy: testEntropy('tick', 1100) });
    room.cmd('h', { type: 'flip_initial', positions: [0, 1] }, 1200);
    room.send({ type: 'presence', player_id: 'h', connected: false, now: 1300 });
    expect(room.ctx.deadline).toMatchObject({ kind: 'grace', player_id: 'h', at: 6300 });
    room.send({ type: 'configure', timing, now: 2000 });
    expect(room.ctx.deadline).toMatchObject({ kind: 'grace', player_id: 'h', at: 7000 });
  });

  it('plays a whole game of one human and CPUs to game_over, and replay equals the live game', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: null, new_player_id: 'c1' });
    room.cmd('h', { type: 'add_cpu', profile: null, new_player_id: 'c2' });
    room.send({ type: 'presence', player_id: 'h', connected: false, now: 0 });
    room.cmd('h', { type: 'start_game' }, 0);
    let now = 0;
    for (let i = 0; i < 2000 && room.snap.value !== 'gameOver'; i++) {
      now = Math.max(now + 1, room.ctx.deadline?.at ?? now + 1);
      room.send({ type: 'tick', now, entropy: testEntropy('tick', now) });
    }
    expect(room.snap.value).toBe('gameOver');
    expect(room.ctx.game.winner_ids.length).toBeGreaterThan(0);
    expect(replay(room.events)).toEqual(room.ctx.game);
    expect(stateValueFor(room.ctx.game.phase, true)).toBe('gameOver');
  });

  it('restored from a persisted snapshot, it carries on identically', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Kenji', new_player_id: 'c1' });
    room.cmd('h', { type: 'start_game' }, 0);
    const persisted = JSON.parse(JSON.stringify(roomMachine.getPersistedSnapshot(room.snap)));
    const restored = restoreRoomSnapshot(persisted.context);
    expect(restored.value).toBe(persisted.value);
    const [a] = transition(roomMachine, room.snap, { type: 'tick', now: 100, entropy: testEntropy('tick', 100) });
    const [b] = transition(roomMachine, restored, { type: 'tick', now: 100, entropy: testEntropy('tick', 100) });
    expect(b.context).toEqual(a.context);
    expect(b.value).toEqual(a.value);
  });
});

describe('next_game and command ids', () => {
  it('an id applied in the finished game is still a retry in the next one (not a new command)', () => {
    const room = lobbyRoom();
    room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c1' }, 0, 'add-1');
    room.send({ type: 'presence', player_id: 'h', connected: false, now: 0 });
    room.cmd('h', { type: 'start_game' }, 0);
    let now = 0;
    for (let i = 0; i < 2000 && room.snap.value !== 'gameOver'; i++) {
      now = Math.max(now + 1, room.ctx.deadline?.at ?? now + 1);
      room.send({ type: 'tick', now, entropy: testEntropy('tick', now) });
    }
    expect(room.snap.value).toBe('gameOver');
    const [next] = room.cmd('h', { type: 'next_game', game_id: 'g2' }, now, 'next-1');
    expect(next).toMatchObject({ type: 'next_game', game_id: 'g2' });
    const started = next as Extract<RoomEmitted, { type: 'next_game' }>;
    // Restored from the new game's events alone (its snapshot lost), as the runtime stores them
    // (placement.ts: every opening event under the host's command id), the room remembers the
    // same ids as the context the machine computed: the carried ones travel in game_created.
    const records: EventRecord[] = started.events.map((event, i) => ({
      game_id: 'g2',
      seq: i + 1,
      type: event.type,
      player_id: event.player_id,
      command_id: started.command_id,
      sender_id: started.command_id ? started.player_id : null,
      command_fp: started.fingerprint,
      data: JSON.parse(JSON.stringify(event.data)),
      created_at: new Date(now),
    }));
    const rebuilt = rebuildContext(null, records.length, records, started.context.timing).context;
    expect(rebuilt.applied).toEqual(started.context.applied);
    expect(rebuilt.applied.h?.map(([id]) => id)).toContain('add-1');
    // The runtime hosts the new game from the context the machine computed for it.
    room.snap = restoreRoomSnapshot(started.context);
    const seq = room.ctx.game.seq;
    // The host's retries, of the command that started this game and of one from the game before (its ack lost).
    expect(room.cmd('h', { type: 'next_game', game_id: 'g3' }, now, 'next-1')).toEqual([{ type: 'duplicate', seq }]);
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Maya', new_player_id: 'c9' }, now, 'add-1')).toEqual([{ type: 'duplicate', seq }]);
    // The same id for another command is refused as in any game.
    expect(room.cmd('h', { type: 'draw', source: 'deck' }, now, 'add-1')[0]).toMatchObject({ type: 'refused', code: 'bad_request' });
  });
});

describe('names as players read them', () => {
  it('look-alikes from other scripts, widths, cases and final sigma are the same name; CPUs are numbered past them', () => {
    for (const [first, second] of [['Alice', 'Аlice'], ['Alice', 'ᎪLICE'], ['ΟΔΟΣ', 'οδος'], ['Host', 'Ｈｏｓｔ']] as const) {
      const room = new Room();
      room.cmd('h', { type: 'create_room', name: first, options: {}, game_id: 'g1', room: 'ABCD', token_hash: 'x' });
      expect(room.cmd('g', { type: 'join_room', name: second, token_hash: 'y' })[0], `${first} / ${second}`).toMatchObject({ type: 'refused', code: 'bad_request' });
    }
    const room = lobbyRoom();
    room.cmd('g', { type: 'join_room', name: 'marcus', token_hash: 'y' });
    expect(room.cmd('h', { type: 'add_cpu', profile: 'Marcus', new_player_id: 'c1' })[0]).toMatchObject({ type: 'domain' });
    expect(room.ctx.game.players.find((p) => p.id === 'c1')?.name).toBe('Marcus 2');
  });

  it('options set as they already are record nothing', () => {
    const room = lobbyRoom();
    const seq = room.ctx.game.seq;
    expect(room.cmd('h', { type: 'set_options', options: { rounds: 1 } }).filter((e) => e.type === 'domain')).toEqual([]);
    expect(room.ctx.game.seq).toBe(seq);
    expect(room.cmd('h', { type: 'set_options', options: { rounds: 2 } })[0]).toMatchObject({ type: 'domain' });
  });
});
