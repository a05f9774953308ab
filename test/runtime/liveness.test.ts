import { describe, expect, it } from 'vitest';
import { Liveness } from '../../src/runtime/liveness.js';
import type { NodeState } from '../../src/stores/state-cache.js';

/** What Redis would answer for each peer's heartbeat key (the one thing Liveness reads). */
function cacheOf(states: Map<string, NodeState>) {
  return { nodeStates: async (ids: readonly string[]) => new Map(ids.map((id) => [id, states.get(id) ?? 'missing'] as const)) };
}

describe('Liveness: since when a peer is known dead (activation leaves its rooms to adoption that long)', () => {
  it('keeps the time of the first news, forgets it when the peer is seen alive again', async () => {
    let now = 1000;
    const states = new Map<string, NodeState>([['b', 'live']]);
    const liveness = new Liveness(cacheOf(states), 1500, () => now);
    expect(liveness.deadSince('a')).toBeNull();
    liveness.heardGone('a');
    now = 1400;
    liveness.heardGone('a'); // a second report does not restart the clock
    expect(liveness.deadSince('a')).toBe(1000);
    expect(liveness.knownDead('a')).toBe(true);
    // Found marked gone by a look: known dead from that look.
    states.set('b', 'gone');
    expect([...(await liveness.dead(['b']))]).toEqual(['b']);
    expect(liveness.deadSince('b')).toBe(1400);
    // Alive again (a restart under the same id): no longer dead, and a later death starts anew.
    states.set('a', 'live');
    await liveness.dead(['a']);
    expect(liveness.deadSince('a')).toBeNull();
    now = 5000;
    liveness.heardGone('a');
    expect(liveness.deadSince('a')).toBe(5000);
  });
});
