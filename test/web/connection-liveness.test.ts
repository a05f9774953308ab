/**
 * The page's connection against a node that hangs (SIGSTOP, a partition): its socket stays open
 * and says nothing, so only the page can tell. It must ask (`ping`) after a quiet spell and go
 * elsewhere when nothing answers, and drop a socket that never opens. A fake WebSocket and fake
 * timers: what is sent and when the page reconnects, not the network.
 */
import { describe, expect, it, vi } from 'vitest';
import { Connection } from '../../web/src/connection.js';
import { FakeSocket, playing, store, useFakePage } from '../support/fake-page.js';

useFakePage();

function seated(): { connection: Connection; socket: FakeSocket } {
  store.set('golf:token', 'T');
  const connection = new Connection('ws://x/ws', { message: () => {}, status: () => {} });
  connection.start();
  const socket = FakeSocket.all[0]!;
  socket.open();
  socket.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 3, rev: 1, state: playing });
  return { connection, socket };
}

describe('the page against a hung node', () => {
  it('pings after 2 s without a frame during a hole, and leaves a node that does not answer, resuming elsewhere', () => {
    const { socket } = seated();
    vi.advanceTimersByTime(1500);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(socket.pings()).toBe(1);
    // No answer for a second: the node is taken for hung; a new socket resumes the seat.
    vi.advanceTimersByTime(1200);
    expect(socket.readyState).toBe(FakeSocket.CLOSED);
    expect(FakeSocket.all).toHaveLength(2);
    const next = FakeSocket.all[1]!;
    next.open();
    expect(next.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
  });

  it('asks after 1 s when a move of its own goes unanswered', () => {
    const { connection, socket } = seated();
    vi.advanceTimersByTime(1500);
    const id = connection.send({ type: 'draw', source: 'deck' });
    vi.advanceTimersByTime(600);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(500);
    expect(socket.pings()).toBe(1);
    socket.receive({ type: 'ack', id, seq: 4 });
    // Answered: back to the in-play quiet.
    vi.advanceTimersByTime(1500);
    expect(socket.pings()).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('stays while the node answers its pings, and while frames come', () => {
    const { socket } = seated();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(2500);
      const ping = socket.sent.filter((m) => m.type === 'ping').at(-1);
      if (ping) socket.receive({ type: 'ack', id: ping.id, seq: 3 });
    }
    expect(socket.pings()).toBeGreaterThan(3);
    expect(FakeSocket.all).toHaveLength(1);
    // Frames every second: nothing to ask.
    const before = socket.pings();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1000);
      socket.receive({ type: 'state', seq: 4 + i, rev: 2 + i, state: playing });
    }
    expect(socket.pings()).toBe(before);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('asks rarely while the game rests (lobby, between holes)', () => {
    const { socket } = seated();
    socket.receive({ type: 'state', seq: 4, rev: 2, state: { ...playing, phase: 'lobby' } });
    vi.advanceTimersByTime(10_000);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(6000);
    expect(socket.pings()).toBe(1);
  });

  it('drops a socket that does not open (a hung node accepts TCP and never answers), a second one alongside too', () => {
    store.set('golf:token', 'T');
    new Connection('ws://x/ws', { message: () => {}, status: () => {} }).start();
    vi.advanceTimersByTime(700);
    expect(FakeSocket.all).toHaveLength(1);
    // Slow to open: a second socket alongside (the load balancer likely picks another node).
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1500);
    expect(FakeSocket.all).toHaveLength(2);
    // Neither opened within the open timeout: both dropped, and a new try after the backoff.
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all.slice(0, 2).map((s) => s.readyState)).toEqual([FakeSocket.CLOSED, FakeSocket.CLOSED]);
    vi.advanceTimersByTime(300);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('keeps the second socket when it opens first: the seat is resumed there, the slow one closed', () => {
    store.set('golf:token', 'T');
    const got: string[] = [];
    new Connection('ws://x/ws', { message: (m) => got.push(m.type), status: () => {} }).start();
    vi.advanceTimersByTime(900);
    const [slow, second] = FakeSocket.all;
    second!.open();
    expect(second!.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    expect(slow!.readyState).toBe(FakeSocket.CLOSED);
    second!.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 3, rev: 1, state: playing });
    expect(got).toEqual(['welcome']);
    // The open timeout of the slow one does nothing now; nothing else is opened.
    vi.advanceTimersByTime(2000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(second!.readyState).toBe(FakeSocket.OPEN);
  });

  it('keeps the first socket when it opens first after all: the second is closed, never used', () => {
    store.set('golf:token', 'T');
    new Connection('ws://x/ws', { message: () => {}, status: () => {} }).start();
    vi.advanceTimersByTime(900);
    const [first, second] = FakeSocket.all;
    first!.open();
    expect(second!.readyState).toBe(FakeSocket.CLOSED);
    second!.readyState = FakeSocket.OPEN;
    second!.onopen?.();
    expect(second!.sent).toEqual([]);
    expect(first!.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    vi.advanceTimersByTime(5000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('a dropped socket is reopened at once (within 250 ms), a second failure after a back-off', () => {
    const { socket } = seated();
    socket.readyState = FakeSocket.CLOSED;
    socket.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(250);
    expect(FakeSocket.all).toHaveLength(2);
    const second = FakeSocket.all[1]!;
    second.readyState = FakeSocket.CLOSED;
    second.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(240);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(600);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('told `reconnect` (a node draining), it goes within 200 ms', () => {
    const { socket } = seated();
    socket.receive({ type: 'reconnect', reason: 'draining' });
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(2);
  });
});
