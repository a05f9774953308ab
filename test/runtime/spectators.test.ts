/**
 * A room's spectators (src/runtime/spectators.ts) on their own: one frame per change for all of
 * them, the cap with places held for arrivals, and one count push for a crowd.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoomListener } from '../../src/runtime/listener.js';
import { RoomSpectators, type SpectatedRoom } from '../../src/runtime/spectators.js';
import type { ViewUpdate } from '../../src/runtime/view-fanout.js';

function update(seq: number): ViewUpdate {
  return { seq, id: seq, state: `{"seq":${seq}}`, patch: null };
}

/** A session-like listener (takes updates) or a peer node's stand-in (takes serialised frames). */
function listener(kind: 'session' | 'peer', spectators?: number) {
  const got: Array<ViewUpdate | string> = [];
  const out = { unseated: [] as string[], evicted: [] as string[] };
  const l: RoomListener = {
    playerId: null,
    ...(spectators !== undefined ? { spectators } : {}),
    ...(kind === 'session' ? { view: (u: ViewUpdate) => void got.push(u) } : {}),
    state: (_seq, frame) => void got.push(frame),
    evicted: (r) => void out.evicted.push(r),
    unseated: (r) => void out.unseated.push(r),
  };
  return Object.assign(l, { got, out });
}

function room(over: Partial<SpectatedRoom> = {}) {
  let now = 0;
  let current = update(1);
  const pushes = { n: 0 };
  const r: SpectatedRoom = {
    now: () => now,
    allowed: () => true,
    stopped: () => false,
    current: () => current,
    pushViews: () => void pushes.n++,
    ...over,
  };
  return { r, pushes, tick: (ms: number) => (now += ms), setCurrent: (u: ViewUpdate) => (current = u) };
}

afterEach(() => vi.useRealTimers());

describe('RoomSpectators', () => {
  it('each change is one frame for all: every spectator gets the same update object, and peers the same serialised string', async () => {
    const { r } = room();
    const spectators = new RoomSpectators(r, 500);
    const sessions = Array.from({ length: 200 }, () => listener('session'));
    const peers = Array.from({ length: 3 }, () => listener('peer', 10));
    for (const l of [...sessions, ...peers]) spectators.attach(l);
    expect(spectators.count).toBe(230);
    // The view is serialised when first read: count the reads.
    let serialised = 0;
    const change: ViewUpdate = {
      seq: 2,
      id: 2,
      patch: null,
      get state() {
        serialised++;
        return '{"seq":2}';
      },
    };
    spectators.queue(change);
    // Sent on the next turn of the event loop, not before.
    expect(sessions[0]!.got.at(-1) === change).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    // (Compared by identity: expect's deep comparison would read the view itself.)
    expect(sessions.every((s) => s.got.at(-1) === change)).toBe(true);
    const frames = peers.map((p) => p.got.at(-1));
    expect(frames[0]).toBe('{"type":"state","seq":2,"state":{"seq":2}}');
    expect(new Set(frames).size).toBe(1);
    // Built once for the three peers (the sessions serialise nothing: they take the update).
    expect(serialised).toBe(1);
  });

  it('the cap counts peers’ spectators and places held for arrivals; a held place lapses after 5 s', () => {
    const { r, tick } = room();
    const spectators = new RoomSpectators(r, 3);
    expect(spectators.admit()).toBeNull();
    expect(spectators.admit()).toBeNull();
    expect(spectators.admit()).toBeNull();
    expect(spectators.admit()).toMatch(/too many/);
    // One of the admitted arrives: its held place becomes its seat, the count stays at the cap.
    spectators.attach(listener('session'));
    expect(spectators.refusal()).toMatch(/too many/);
    tick(5_001);
    expect(spectators.refusal()).toBeNull();
    // A peer node's listener stands for its spectators, let in whatever the count.
    spectators.attach(listener('peer', 5));
    expect(spectators.count).toBe(6);
    const late = listener('session');
    spectators.attach(late);
    expect(late.out.unseated).toEqual(['too many spectators watch this room']);
  });

  it('a crowd arriving is one push of the players’ views, once the count differs from the one shown', () => {
    vi.useFakeTimers();
    const { r, pushes } = room();
    const spectators = new RoomSpectators(r, 500);
    for (let i = 0; i < 50; i++) spectators.attach(listener('session'));
    expect(pushes.n).toBe(0);
    vi.advanceTimersByTime(250);
    expect(pushes.n).toBe(1);
    spectators.showCount();
    expect(spectators.shown).toBe(50);
    // Come and gone meanwhile: nothing to show, no push.
    const brief = listener('session');
    spectators.attach(brief);
    spectators.detach(brief);
    vi.advanceTimersByTime(250);
    expect(pushes.n).toBe(1);
  });

  it('spectating turned off drops them all (told why); a stop sends the waiting frames first, then evicts', async () => {
    let allowed = true;
    const { r } = room({ allowed: () => allowed });
    const spectators = new RoomSpectators(r, 500);
    const a = listener('session');
    const b = listener('session');
    spectators.attach(a);
    spectators.attach(b);
    spectators.queue(update(3));
    spectators.settle();
    expect(a.got.map((u) => (u as ViewUpdate).seq)).toEqual([1, 3]);
    spectators.evictAll('drained');
    expect(a.out.evicted).toEqual(['drained']);
    expect(spectators.size).toBe(0);
    spectators.attach(a);
    allowed = false;
    spectators.dropIfClosed();
    expect(a.out.unseated).toEqual(['the host turned spectating off']);
    spectators.attach(b);
    expect(b.out.unseated).toEqual(['the host turned spectating off']);
  });
});
