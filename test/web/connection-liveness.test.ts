/**
 * The page's connection against a node that hangs (SIGSTOP, a partition): its socket stays open
 * and says nothing, so only the page can tell. It must ask (`ping`) after a quiet spell and go
 * elsewhere when nothing answers, and drop a socket that never opens. A fake WebSocket and fake
 * timers: what is sent and when the page reconnects, not the network.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from '../../web/src/connection.js';
import { FakeSocket, playing, store, useFakePage } from '../support/fake-page.js';

useFakePage();
// The jitter of reconnects and of the sockets' beat at its middle: the times below are exact.
beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

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
  it('pings after 1.2 s without a frame during a hole, and leaves a node that does not answer within 0.6 s, resuming elsewhere', () => {
    const { socket } = seated();
    vi.advanceTimersByTime(1100);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(150);
    expect(socket.pings()).toBe(1);
    // No answer for 0.6 s: the node is taken for hung; a new socket resumes the seat.
    vi.advanceTimersByTime(450);
    expect(socket.readyState).toBe(FakeSocket.OPEN);
    vi.advanceTimersByTime(450);
    expect(socket.readyState).toBe(FakeSocket.CLOSED);
    // Two at once: with three nodes, one in three of the first lands on the hung node again.
    expect(FakeSocket.all).toHaveLength(3);
    const next = FakeSocket.all[2]!;
    next.open();
    expect(next.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    expect(FakeSocket.all[1]!.readyState).toBe(FakeSocket.CLOSED);
  });

  it('asks after 0.4 s when a move of its own goes unanswered', () => {
    const { connection, socket } = seated();
    vi.advanceTimersByTime(500);
    const id = connection.send({ type: 'draw', source: 'deck' });
    vi.advanceTimersByTime(240);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(260);
    expect(socket.pings()).toBe(1);
    socket.receive({ type: 'ack', id, seq: 4 });
    // Answered: back to the in-play quiet.
    vi.advanceTimersByTime(1000);
    expect(socket.pings()).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('stays while the node answers its pings, and while frames come', () => {
    const { socket } = seated();
    const answered = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(500);
      for (const ping of socket.sent.filter((m) => m.type === 'ping' && !answered.has(m.id))) {
        answered.add(ping.id);
        socket.receive({ type: 'ack', id: ping.id, seq: 3 });
      }
    }
    expect(socket.pings()).toBeGreaterThan(3);
    expect(FakeSocket.all).toHaveLength(1);
    // Frames every 0.7 s: nothing to ask.
    socket.receive({ type: 'state', seq: 3, rev: 1, state: playing });
    const before = socket.pings();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(700);
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

  it('between holes, expects the next hole when the node said it starts, and asks 1.2 s past it', () => {
    const { socket } = seated();
    socket.receive({ type: 'state', seq: 4, rev: 2, state: { ...playing, phase: 'round_over', next_round_at: Date.now() + 3000 } });
    vi.advanceTimersByTime(4100);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(200);
    expect(socket.pings()).toBe(1);
    // No answer: a node hung between holes is left like one hung in play.
    vi.advanceTimersByTime(1000);
    expect(socket.readyState).toBe(FakeSocket.CLOSED);
    expect(FakeSocket.all.length).toBeGreaterThan(1);
  });

  it('between holes with a clock an hour behind the node (not measured), still asks a silent node, and soon about a move of its own', () => {
    const { connection, socket } = seated();
    // The node's next_round_at is 3 s away on its clock: an hour and 3 s on this device's.
    socket.receive({ type: 'state', seq: 4, rev: 2, state: { ...playing, phase: 'round_over', next_round_at: Date.now() + 3_600_000 + 3000 } });
    vi.advanceTimersByTime(15_000);
    expect(socket.pings()).toBe(0);
    vi.advanceTimersByTime(1_500);
    expect(socket.pings()).toBe(1);
    socket.receive({ type: 'ack', id: socket.sent.at(-1)!.id, seq: 4 });
    // A command of its own, never answered (the node hung): asked about within half a second.
    connection.send({ type: 'leave' });
    vi.advanceTimersByTime(500);
    expect(socket.pings()).toBe(2);
  });

  it('opens another socket while none opens (a hung node accepts TCP and never answers), after 0.3 s then each wait half as long again, five in all', () => {
    store.set('golf:token', 'T');
    new Connection('ws://x/ws', { message: () => {}, status: () => {} }).start();
    const states = () => FakeSocket.all.map((s) => (s.readyState === FakeSocket.CLOSED ? 'x' : 'o')).join('');
    vi.advanceTimersByTime(250);
    expect(states()).toBe('o');
    // Slow to open: another socket alongside (the load balancer likely picks another node).
    vi.advanceTimersByTime(100); // 350
    expect(states()).toBe('oo');
    vi.advanceTimersByTime(350); // 700
    expect(states()).toBe('oo');
    vi.advanceTimersByTime(100); // 800
    expect(states()).toBe('ooo');
    vi.advanceTimersByTime(700); // 1500
    expect(states()).toBe('oooo');
    // None is dropped for a newer one (a busy node answers late): each at its own open timeout.
    vi.advanceTimersByTime(1000); // 2500
    expect(states()).toBe('xoooo');
    vi.advanceTimersByTime(2000); // 4500: no sixth
    expect(states()).toBe('xxxxo');
    vi.advanceTimersByTime(500); // 5000: none opened, a new try after the backoff
    expect(states()).toBe('xxxxx');
    vi.advanceTimersByTime(250);
    expect(FakeSocket.all).toHaveLength(6);
  });

  it('keeps a third socket that opens first, the others closed unused', () => {
    store.set('golf:token', 'T');
    new Connection('ws://x/ws', { message: () => {}, status: () => {} }).start();
    vi.advanceTimersByTime(800);
    const [first, second, third] = FakeSocket.all;
    third!.open();
    expect(third!.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    expect([first!.readyState, second!.readyState]).toEqual([FakeSocket.CLOSED, FakeSocket.CLOSED]);
    first!.readyState = FakeSocket.OPEN;
    first!.onopen?.();
    expect(first!.sent).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('keeps the second socket when it opens first: the seat is resumed there, the slow one closed', () => {
    store.set('golf:token', 'T');
    const got: string[] = [];
    new Connection('ws://x/ws', { message: (m) => got.push(m.type), status: () => {} }).start();
    vi.advanceTimersByTime(350);
    const [slow, second] = FakeSocket.all;
    second!.open();
    expect(second!.sent.map((m) => m.type)).toEqual(['hello', 'resume']);
    expect(slow!.readyState).toBe(FakeSocket.CLOSED);
    second!.receive({ type: 'welcome', room: 'ABCD', player_id: 'p', token: 'T', seq: 3, rev: 1, state: playing });
    expect(got).toEqual(['welcome']);
    // The open timeout of the slow one does nothing now; nothing else is opened.
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1000);
      second!.receive({ type: 'state', seq: 4 + i, rev: 2 + i, state: playing });
    }
    expect(FakeSocket.all).toHaveLength(2);
    expect(second!.readyState).toBe(FakeSocket.OPEN);
  });

  it('keeps the first socket when it opens first after all: the second is closed, never used', () => {
    store.set('golf:token', 'T');
    new Connection('ws://x/ws', { message: () => {}, status: () => {} }).start();
    vi.advanceTimersByTime(350);
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

  it('a dropped socket is reopened at once (within 250 ms), a refused one after a back-off', () => {
    const { socket } = seated();
    socket.readyState = FakeSocket.CLOSED;
    socket.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(250);
    expect(FakeSocket.all).toHaveLength(2);
    // Refused (closed before opening): no other socket alongside, the next try after a back-off.
    const second = FakeSocket.all[1]!;
    second.readyState = FakeSocket.CLOSED;
    second.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(240);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(520);
    expect(FakeSocket.all).toHaveLength(3);
  });

  it('told `reconnect` (a node draining), it goes within 200 ms', () => {
    const { socket } = seated();
    socket.receive({ type: 'reconnect', reason: 'draining' });
    vi.advanceTimersByTime(200);
    expect(FakeSocket.all).toHaveLength(2);
  });
});
