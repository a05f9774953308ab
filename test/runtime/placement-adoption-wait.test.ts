import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Placement } from '../../src/runtime/placement.js';
import type { RuntimeDeps } from '../../src/runtime/types.js';
import { PgReachability } from '../../src/stores/pg-reachability.js';
import type { NodeState, RoomMeta } from '../../src/stores/state-cache.js';

const TTL = 1500;
const ROOM = 'WXYZ';

/**
 * A survivor (node B) locating a room of a peer (A) it just heard is gone: the room is left to
 * adoption and waited for (Placement.locate). The stores are stubs, so that the interleaving is
 * exact: the news that a peer (C) adopted the room arrives while B's look at the room index is
 * on its way, before B starts waiting.
 */
function survivor(onLookup: (placement: Placement, n: number, adopt: () => void) => void) {
  let owner = 'node-a';
  const meta = (): RoomMeta => ({ game_id: 'g1', host_id: 'p1', created_at: new Date().toISOString(), status: 'playing', server_id: owner, epoch: owner === 'node-a' ? 1 : 2 });
  let lookups = 0;
  let placement: Placement;
  const cache = {
    lookupRoom: async () => {
      await new Promise((r) => setTimeout(r, 5));
      // Read first: whatever happens while the answer is on its way back is not in it.
      const read = meta();
      onLookup(placement, ++lookups, adopt);
      return { meta: read, indexed: true };
    },
    getRoom: async () => meta(),
    nodeStates: async (ids: readonly string[]) => new Map<string, NodeState>(ids.map((id) => [id, id === 'node-a' ? 'gone' : 'live'])),
  };
  const events = { reachability: new PgReachability(async () => undefined) };
  const deps = {
    backends: { cache, events, bus: {}, leases: {} },
    options: { nodeId: 'node-b', leaseTtlMs: TTL, roomTtlSeconds: 3600, timing: {} },
    log: createLogger('silent'),
    now: Date.now,
  } as unknown as RuntimeDeps;
  const adopt = () => (owner = 'node-c');
  placement = new Placement(deps);
  placement.onOrphan = () => undefined;
  placement.liveness.heardGone('node-a');
  return { placement, adopt };
}

describe('Placement.locate: a dead peer’s room left to adoption', () => {
  it('goes to the adopter at once when the news that it is hosted came during the look (no lost wake-up)', async () => {
    const { placement } = survivor((p, n, adopt) => {
      if (n !== 1) return;
      // Node C adopts the room: its hash names C, and its `hosted` news reaches B (peers.ts)
      // while B's look, which read the hash before, is still on its way back.
      adopt();
      p.handovers.hostedNews([ROOM]);
      p.wake([ROOM]);
    });
    const started = Date.now();
    const where = await placement.locate(ROOM);
    const ms = Date.now() - started;
    expect(where).toEqual({ remote: 'node-c' });
    // Without the fix: B waits out the rest of the lease TTL (~1.5 s) for news it already had.
    expect(ms).toBeLessThan(TTL / 3);
  });

  it('still waits (and then looks again) when no news came', async () => {
    const { placement, adopt } = survivor(() => undefined);
    setTimeout(() => {
      adopt();
      placement.handovers.hostedNews([ROOM]);
      placement.wake([ROOM]);
    }, 200);
    const started = Date.now();
    const where = await placement.locate(ROOM);
    const ms = Date.now() - started;
    expect(where).toEqual({ remote: 'node-c' });
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(TTL / 2);
  });
});
