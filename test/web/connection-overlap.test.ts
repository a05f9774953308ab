/**
 * The page told `reconnect` with `overlap` (a drain whose rooms are already on peers): its
 * socket stays served, so it resumes on a new one first and only then closes the old one; what
 * it sends meanwhile goes on the old one, and an answer still owed there is waited for. A fake
 * WebSocket and fake timers: what is sent where, and when each socket closes.
 */
import { describe, expect, it, vi } from 'vitest';
import { Connection, type ServerMessage } from '../../web/src/connection.js';
import { FakeSocket, playing, store, useFakePage } from '../support/fake-page.js';

useFakePage();

describe('the page told to reconnect with overlap', () => {
  it('resumes on a new socket while the old one serves, then closes the old one once its answers are in', () => {
    store.set('golf:token', 'T');
    const seen: ServerMessage[] = [];
    const connection = new Connection('ws://x/ws', { message: (m) => seen.push(m), status: () => {} });
    connection.start();
    const old = FakeSocket.all[0]!;
    old.open();
    old.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 3, rev: 1, state: playing });
    const move = connection.send({ type: 'draw', source: 'deck' });
    old.receive({ type: 'reconnect', reason: 'restarting', overlap: true });
    // A new socket at once; the old one is still the page's.
    expect(FakeSocket.all).toHaveLength(2);
    expect(old.readyState).toBe(FakeSocket.OPEN);
    const next = FakeSocket.all[1]!;
    next.open();
    expect(next.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    // Views keep coming on the old socket meanwhile.
    old.receive({ type: 'state', seq: 4, rev: 2, state: playing });
    expect(seen.filter((m) => m.type === 'state')).toHaveLength(1);
    // Welcomed on the new one: it is the page's; the old one stays until the move is answered there.
    next.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 4, rev: 1, state: playing });
    expect(seen.filter((m) => m.type === 'welcome')).toHaveLength(2);
    expect(old.readyState).toBe(FakeSocket.OPEN);
    const later = connection.send({ type: 'discard' });
    expect(next.sent.at(-1)?.id).toBe(later);
    // Frames of the old socket other than the answer owed are not the page's any more.
    old.receive({ type: 'state', seq: 5, rev: 3, state: playing });
    expect(seen.filter((m) => m.type === 'state')).toHaveLength(1);
    old.receive({ type: 'ack', id: move, seq: 5 });
    expect(seen.some((m) => m.type === 'ack' && m.id === move)).toBe(true);
    expect(old.readyState).toBe(FakeSocket.CLOSED);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('tries again when the resume is refused (the room still moving), the old socket serving meanwhile', () => {
    store.set('golf:token', 'T');
    const connection = new Connection('ws://x/ws', { message: () => {}, status: () => {} });
    connection.start();
    const old = FakeSocket.all[0]!;
    old.open();
    old.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 3, rev: 1, state: playing });
    old.receive({ type: 'reconnect', reason: 'restarting', overlap: true });
    const first = FakeSocket.all[1]!;
    first.open();
    const resume = first.sent.find((m) => m.type === 'resume')!;
    first.receive({ type: 'error', id: resume.id, code: 'unavailable', message: 'moving' });
    expect(first.readyState).toBe(FakeSocket.CLOSED);
    expect(old.readyState).toBe(FakeSocket.OPEN);
    vi.advanceTimersByTime(300);
    expect(FakeSocket.all).toHaveLength(3);
  });
});
