import { describe, expect, it } from 'vitest';
import { earlyEvents } from '../../src/runtime/restore.js';
import type { EventRecord } from '../../src/stores/event-store.js';

const ev = (seq: number) => ({ game_id: 'g', seq }) as EventRecord;
const seqs = (list: EventRecord[]) => list.map((e) => e.seq);

/**
 * Adoption reads a room's events alongside its epoch claim (one round trip, not two in a row):
 * what that read missed must be read after it, or the room would be restored short (and, by
 * rebuildContext's check, let go as corrupt).
 */
describe('events read alongside the epoch claim (Recovery.completeEvents)', () => {
  it('are enough when they reach the claimed sequence', () => {
    expect(earlyEvents([ev(6), ev(7)], 5, 5, 7)).toEqual({ events: [ev(6), ev(7)], resumeAfter: null });
  });
  it('go on after the last one read when the old owner committed after the read and before the claim', () => {
    const got = earlyEvents([ev(6)], 5, 5, 8);
    expect(seqs(got.events)).toEqual([6]);
    expect(got.resumeAfter).toBe(6);
    expect(earlyEvents([], 5, 5, 6)).toEqual({ events: [], resumeAfter: 5 });
  });
  it('are read again from the start when the snapshot they followed turned out unusable', () => {
    expect(earlyEvents([ev(10), ev(11)], 9, 0, 8)).toEqual({ events: [], resumeAfter: 0 });
  });
  it('are none when the snapshot is the claimed sequence; never past the claim', () => {
    expect(earlyEvents([], 7, 7, 7)).toEqual({ events: [], resumeAfter: null });
    expect(earlyEvents([ev(6), ev(7), ev(8)], 5, 5, 7)).toEqual({ events: [ev(6), ev(7)], resumeAfter: null });
  });
});
