import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { RoomActor } from '../../src/runtime/room-actor.js';
import { SnapshotWriter } from '../../src/runtime/snapshot-writer.js';
import type { StateCache } from '../../src/stores/state-cache.js';

/** A cache whose snapshot writes succeed, or fail while `failing` is set. */
function fakeCache() {
  const state = { failing: false, writes: 0 };
  const cache = {
    ttlSeconds: 3600,
    async saveSnapshot() {
      if (state.failing) throw new Error('down');
      state.writes++;
      return true;
    },
    async updateRoom() {},
    async deactivate() {},
  } as unknown as StateCache;
  return { cache, state };
}

const log = createLogger('silent');
const actor = (code: string) =>
  ({ code, gameId: `g-${code}`, game: { phase: 'playing', host_id: 'h', players: [] }, persisted: () => ({}), log }) as unknown as RoomActor;

describe('SnapshotWriter.behind (what a drain must still write)', () => {
  it('a room never written, or changed since its last write, is behind; once written it is not', async () => {
    const { cache, state } = fakeCache();
    const writer = new SnapshotWriter(cache, log);
    const a = actor('AAAA');
    expect(writer.behind(a)).toBe(true);
    writer.mark(a);
    expect(writer.behind(a)).toBe(true);
    await writer.flush();
    expect(state.writes).toBe(1);
    expect(writer.behind(a)).toBe(false);
    writer.mark(a);
    expect(writer.behind(a)).toBe(true);
    await writer.flush();
    expect(writer.behind(a)).toBe(false);
  });

  it('a write that failed leaves the room behind', async () => {
    const { cache, state } = fakeCache();
    const writer = new SnapshotWriter(cache, log);
    const a = actor('BBBB');
    state.failing = true;
    writer.mark(a);
    await writer.flush();
    expect(writer.behind(a)).toBe(true);
    state.failing = false;
    writer.mark(a);
    await writer.flush();
    expect(writer.behind(a)).toBe(false);
  });

  it('a room forgotten (stopped here) counts as behind if hosted again', async () => {
    const { cache } = fakeCache();
    const writer = new SnapshotWriter(cache, log);
    const a = actor('CCCC');
    writer.mark(a);
    await writer.flush();
    writer.forget('CCCC');
    expect(writer.behind(a)).toBe(true);
  });
});
