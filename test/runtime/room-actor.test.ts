/**
 * One room's actor on fake stores (RoomActor with fake deps): the hand-over's close (a drain's
 * wave) and the settling of an append in doubt, where the order of events is the whole point.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { newRoomSnapshot, stepRoom, type RoomSnapshot } from '../../actors/room-machine.js';
import type { RoomListener } from '../../src/runtime/listener.js';
import { RoomActor, type ActorDeps, type Outcome } from '../../src/runtime/room-actor.js';
import type { ViewUpdate } from '../../src/runtime/view-fanout.js';
import type { Lease } from '../../src/stores/leases.js';
import type { AppendRequest } from '../../src/stores/event-store.js';
import { EventStoreInDoubt } from '../../src/stores/event-store.js';
import { testEntropy } from '../support/game.js';

const timing = { cpu_think_ms: 100, round_pause_ms: 1000, disconnect_grace_ms: 5000 };

function lobby(): RoomSnapshot {
  const command = { type: 'create_room', name: 'Host', options: { rounds: 1 }, game_id: 'g1', room: 'ABCD', token_hash: 'x' } as const;
  return stepRoom(newRoomSnapshot(timing), { type: 'command', player_id: 'h', command_id: null, command, now: 0, entropy: testEntropy('actor', 0) }).snapshot;
}

/** A lobby room hosted on fake stores: `append` and `settle` as the test says; what stopped it is kept. */
function hosted(append: ActorDeps['append'], settle?: ActorDeps['settle']) {
  const stopped: string[] = [];
  const lease: Lease = { key: 'lease:ABCD', held: () => true, onLost: () => {}, release: async () => {} };
  const deps: ActorDeps = {
    append,
    ...(settle ? { settle } : {}),
    saveSnapshot: () => {},
    setConnected: () => {},
    stopped: (_actor, reason) => void stopped.push(reason),
    nextGame: async () => {
      throw new Error('not in this test');
    },
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
    seatRate: { perSecond: 100, burst: 100 },
  };
  return { actor: new RoomActor('ABCD', 'g1', 1, lease, lobby(), deps), stopped };
}

const addCpu = (profile: string) => ({ type: 'add_cpu', profile }) as never;
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('a room closed for a hand-over', () => {
  it('sends the views of the move committing as it closes to every watcher, then stops; what is queued or arrives is told the room is moving', async () => {
    const appends: Array<{ request: AppendRequest; commit: () => void }> = [];
    const { actor } = hosted((request) => new Promise<void>((resolve) => appends.push({ request, commit: resolve })));
    // A seat watched here, and a peer node's stand-in (it takes serialised frames).
    const seen = { seat: [] as number[], peer: [] as number[], evicted: [] as string[] };
    const seat: RoomListener = { playerId: 'h', view: (u: ViewUpdate) => void seen.seat.push(u.seq), state: () => {}, evicted: (r) => void seen.evicted.push(`seat: ${r}`), unseated: () => {} };
    const peer: RoomListener = { playerId: 'h', state: (seq) => void seen.peer.push(seq), evicted: (r) => void seen.evicted.push(`peer: ${r}`), unseated: () => {} };
    actor.attach(seat);
    actor.attach(peer);
    const seqBefore = actor.seq;
    const outcomes: Outcome[] = [];
    actor.submit('h', 'c1', addCpu('Marcus'), (o) => outcomes.push(o));
    actor.submit('h', 'c2', addCpu('Marcus'), (o) => outcomes.push(o));
    await flush();
    expect(appends).toHaveLength(1);
    seen.seat.length = 0;
    seen.peer.length = 0;

    actor.close();
    // Queued behind the move in flight: refused as moving, unprocessed (it follows the room).
    expect(outcomes).toEqual([{ ok: false, code: 'unavailable', message: 'the room is moving; try again' }]);
    actor.submit('h', 'c3', addCpu('Marcus'), (o) => outcomes.push(o));
    expect(outcomes).toHaveLength(2);
    expect(outcomes[1]).toMatchObject({ ok: false, code: 'unavailable' });

    appends[0]!.commit();
    await actor.idle();
    // The move committed under this node's lease: acked, and shown to both watchers.
    expect(outcomes[2]).toEqual({ ok: true, seq: seqBefore + 1, duplicate: false });
    expect(seen.seat).toEqual([seqBefore + 1]);
    expect(seen.peer).toEqual([seqBefore + 1]);
    expect(seen.evicted).toEqual([]);
    expect(appends).toHaveLength(1);

    actor.stop('draining');
    expect(seen.evicted).toEqual(['seat: draining', 'peer: draining']);
    expect(actor.persisted().seq).toBe(seqBefore + 1);
  });
});

describe('settling an append in doubt', () => {
  it('adopts the move when the row moved past it, goes on without it when the row did not; commands meanwhile are told nothing changed', async () => {
    let row = { last_seq: 0, epoch: 1 };
    let answer: () => void = () => {};
    const { actor, stopped } = hosted(
      async () => {
        throw new EventStoreInDoubt('no answer');
      },
      () => new Promise((resolve) => (answer = () => resolve(row))),
    );
    const seq = actor.seq;
    const outcomes: Outcome[] = [];
    actor.submit('h', 'c1', addCpu('Marcus'), (o) => outcomes.push(o));
    await flush();
    expect(outcomes[0]).toMatchObject({ ok: false, code: 'unavailable', in_doubt: true });
    actor.submit('h', 'c2', addCpu('Kenji'), (o) => outcomes.push(o));
    expect(outcomes[1]).toMatchObject({ ok: false, code: 'unavailable', busy: true });
    // PostgreSQL answers: the row moved past the move (one event): it is in.
    row = { last_seq: seq + 1, epoch: 1 };
    answer();
    await actor.idle();
    expect(actor.seq).toBe(seq + 1);
    expect(actor.game.players.map((p) => p.name)).toContain('Marcus');
    // The next in doubt, found not stored: the room goes on as it was.
    actor.submit('h', 'c3', addCpu('Kenji'), (o) => outcomes.push(o));
    await flush();
    answer();
    await actor.idle();
    expect(actor.seq).toBe(seq + 1);
    expect(actor.game.players.map((p) => p.name)).not.toContain('Kenji');
    expect(stopped).toEqual([]);
  });

  it('after an out, a later append in doubt at the same sequence is not taken as in (the first may have committed late)', async () => {
    const appends: AppendRequest[] = [];
    let row = { last_seq: 0, epoch: 1 };
    const { actor, stopped } = hosted(
      async (request) => {
        appends.push(request);
        throw new EventStoreInDoubt('no answer');
      },
      async () => row,
    );
    const seq = actor.seq;
    row = { last_seq: seq, epoch: 1 };
    // First append (Marcus): PostgreSQL says not stored ('out'), but its transaction is still on its way.
    actor.submit('h', 'c1', addCpu('Marcus'), () => {});
    await actor.idle();
    expect(actor.seq).toBe(seq);
    expect(stopped).toEqual([]);
    // The first append commits late; the second (Kenji), as long, is in doubt too.
    row = { last_seq: seq + appends[0]!.events.length, epoch: 1 };
    actor.submit('h', 'c2', addCpu('Kenji'), () => {});
    await actor.idle();
    expect(appends[1]!.events.length).toBe(appends[0]!.events.length);
    expect(appends[1]!.expected_seq).toBe(seq);
    // Adopting Kenji while PostgreSQL holds Marcus would diverge: the room must be restored instead.
    expect(actor.game.players.map((p) => p.name)).not.toContain('Kenji');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatch(/^in doubt/);
  });

  it('another epoch in the row: the room stops as fenced', async () => {
    const { actor, stopped } = hosted(
      async () => {
        throw new EventStoreInDoubt('no answer');
      },
      async () => ({ last_seq: 0, epoch: 2 }),
    );
    actor.submit('h', 'c1', addCpu('Marcus'), () => {});
    await actor.idle();
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatch(/^fenced/);
  });
});
