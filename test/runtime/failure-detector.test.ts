/**
 * The failure detector on fake looks at Redis: a peer whose subscription vanished with every
 * connection of it is taken for dead at the first look that misses it; one whose subscription
 * alone vanished (that connection broke and comes back), at the second; none while Redis
 * cannot say which connections are left.
 */
import { describe, expect, it } from 'vitest';
import { FailureDetector } from '../../src/runtime/failure-detector.js';

function world() {
  const state = {
    subscribed: new Set(['me', 'peer']),
    connected: new Set(['me', 'peer']) as Set<string> | null,
    marks: new Map<string, string | null>([['peer', 'm1']]),
    now: 0,
    asked: 0,
  };
  const dead: string[] = [];
  const bus = {
    breaks: 0,
    listening: async () => new Set(state.subscribed),
    connected: async (ids: readonly string[]) => {
      state.asked++;
      return state.connected === null ? null : new Set(ids.filter((id) => state.connected!.has(id)));
    },
  };
  const cache = { heartbeatMarks: async (ids: readonly string[]) => new Map(ids.map((id) => [id, state.marks.get(id) ?? null])) };
  const detector = new FailureDetector(bus, cache, 'me', 1500, () => state.now, (id) => dead.push(id));
  const look = async () => {
    state.now += 100;
    await detector.look();
  };
  return { state, dead, look };
}

describe('failure detector', () => {
  it('a peer with no connection left is dead at the first look that misses it', async () => {
    const { state, dead, look } = world();
    await look();
    await look();
    expect(state.asked).toBe(0); // not asked while every peer is subscribed
    state.subscribed.delete('peer');
    state.connected!.delete('peer');
    await look();
    expect(dead).toEqual(['peer']);
  });

  it('a peer whose subscription alone vanished is dead only at the second look', async () => {
    const { state, dead, look } = world();
    await look();
    await look();
    state.subscribed.delete('peer');
    await look();
    expect(dead).toEqual([]);
    await look();
    expect(dead).toEqual(['peer']);
  });

  it('without CLIENT LIST (refused), two looks as before', async () => {
    const { state, dead, look } = world();
    await look();
    state.subscribed.delete('peer');
    state.connected = null;
    await look();
    expect(dead).toEqual([]);
    await look();
    expect(dead).toEqual(['peer']);
  });

  it('a peer whose heartbeat moved as its subscription vanished is not dead at the first look', async () => {
    const { state, dead, look } = world();
    await look();
    state.subscribed.delete('peer');
    state.connected!.delete('peer');
    state.marks.set('peer', 'm2');
    await look();
    expect(dead).toEqual([]);
    await look();
    expect(dead).toEqual(['peer']);
  });
});
