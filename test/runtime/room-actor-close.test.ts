/**
 * A room closed for a hand-over (a drain's wave, RoomActor.close): the move committing at that
 * moment still reaches every watcher, here and through peers, before the room stops; anything
 * queued or arriving is told the room is moving, unprocessed.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { newRoomSnapshot, stepRoom, type RoomSnapshot } from '../../actors/room-machine.js';
import type { RoomListener } from '../../src/runtime/listener.js';
import { RoomActor, type ActorDeps, type Outcome } from '../../src/runtime/room-actor.js';
import type { ViewUpdate } from '../../src/runtime/view-fanout.js';
import type { Lease } from '../../src/stores/leases.js';
import type { AppendRequest } from '../../src/stores/event-store.js';
import { testEntropy } from '../support/game.js';

const timing = { cpu_think_ms: 100, round_pause_ms: 1000, disconnect_grace_ms: 5000 };

function lobby(): RoomSnapshot {
  const command = { type: 'create_room', name: 'Host', options: { rounds: 1 }, game_id: 'g1', room: 'ABCD', token_hash: 'x' } as const;
  return stepRoom(newRoomSnapshot(timing), { type: 'command', player_id: 'h', command_id: null, command, now: 0, entropy: testEntropy('close', 0) }).snapshot;
}

function setup() {
  const appends: Array<{ request: AppendRequest; commit: () => void }> = [];
  const lease: Lease = { key: 'lease:ABCD', held: () => true, onLost: () => {}, release: async () => {} };
  const deps: ActorDeps = {
    append: (request) => new Promise<void>((resolve) => appends.push({ request, commit: resolve })),
    saveSnapshot: () => {},
    setConnected: () => {},
    stopped: () => {},
    nextGame: async () => {
      throw new Error('not in this test');
    },
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
    seatRate: { perSecond: 100, burst: 100 },
  };
  const actor = new RoomActor('ABCD', 'g1', 1, lease, lobby(), deps);
  // A seat watched here, and a peer node's stand-in (it takes serialised frames).
  const seen = { seat: [] as number[], peer: [] as number[], evicted: [] as string[] };
  const seat: RoomListener = { playerId: 'h', view: (u: ViewUpdate) => void seen.seat.push(u.seq), state: () => {}, evicted: (r) => void seen.evicted.push(`seat: ${r}`), unseated: () => {} };
  const peer: RoomListener = { playerId: 'h', state: (seq) => void seen.peer.push(seq), evicted: (r) => void seen.evicted.push(`peer: ${r}`), unseated: () => {} };
  actor.attach(seat);
  actor.attach(peer);
  return { actor, appends, seen };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('a room closed for a hand-over', () => {
  it('sends the views of the move committing as it closes to every watcher, then stops; what is queued or arrives is told the room is moving', async () => {
    const { actor, appends, seen } = setup();
    const seqBefore = actor.seq;
    const outcomes: Outcome[] = [];
    actor.submit('h', 'c1', { type: 'add_cpu', profile: 'Marcus' } as never, (o) => outcomes.push(o));
    actor.submit('h', 'c2', { type: 'add_cpu', profile: 'Marcus' } as never, (o) => outcomes.push(o));
    await flush();
    expect(appends).toHaveLength(1);
    seen.seat.length = 0;
    seen.peer.length = 0;

    actor.close();
    // Queued behind the move in flight: refused as moving, unprocessed (it follows the room).
    expect(outcomes).toEqual([{ ok: false, code: 'unavailable', message: 'the room is moving; try again' }]);
    actor.submit('h', 'c3', { type: 'add_cpu', profile: 'Marcus' } as never, (o) => outcomes.push(o));
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
