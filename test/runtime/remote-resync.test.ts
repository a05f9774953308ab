/**
 * Requests to a room's owner whose replies were lost with this node's bus subscription (it
 * broke and came back: pub/sub keeps nothing) must not wait out the whole request timeout:
 * an attach still in flight leaves its seat without views and without checks until it ends
 * (test/faults/deaf-node.test.ts saw players stalled 7 s by a 1 s break).
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RemoteRooms } from '../../src/runtime/remote.js';
import type { RoomListener } from '../../src/runtime/room-actor.js';
import type { Bus } from '../../src/stores/bus.js';

/** A bus that delivers nothing back: every reply is lost (`receivers`: how many got each send). */
function deafBus(receivers = 1): Bus & { sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    breaks: 0,
    hearing: false,
    deafSince: null,
    onMessage() {},
    onResubscribed() {},
    async send(_node: string, message: unknown) {
      sent.push(message);
      return receivers;
    },
    async listening() {
      return null;
    },
    async broadcast() {},
    async close() {},
  };
}

const listener = (playerId: string): RoomListener => ({ playerId, state() {}, evicted() {}, unseated() {} });
const within = <T>(ms: number, p: Promise<T>) => Promise.race([p, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms))]);

describe('requests in flight when the subscription comes back', () => {
  it('a command is answered at once as in doubt (retried by id), not after the timeout', async () => {
    const bus = deafBus();
    const remote = new RemoteRooms(bus, 'here', pino({ level: 'silent' }), 7000);
    const reply = remote.request('owner', 'ABCD', { type: 'command', player_id: 'p1', command_id: 'c1', command: { type: 'discard' }, want_view: false });
    await new Promise((r) => setTimeout(r, 10));
    expect(bus.sent).toHaveLength(1);
    void remote.resync();
    const answer = await within(200, reply);
    expect(answer).toMatchObject({ ok: false, code: 'unavailable', in_doubt: true });
  });

  it('an attach is given up at once (its session attaches again), not after the timeout', async () => {
    const bus = deafBus();
    const remote = new RemoteRooms(bus, 'here', pino({ level: 'silent' }), 7000);
    const watching = remote.watch('owner', 'ABCD', listener('p1'));
    await new Promise((r) => setTimeout(r, 10));
    void remote.resync();
    expect(await within(200, watching)).toBe(false);
  });
});

describe('a request nobody hears', () => {
  it('(no subscriber got it: the owner died, or is restoring its subscription after a Redis restart) is answered at once, not in doubt', async () => {
    const bus = deafBus(0);
    const remote = new RemoteRooms(bus, 'here', pino({ level: 'silent' }), 7000);
    const reply = remote.request('owner', 'ABCD', { type: 'command', player_id: 'p1', command_id: 'c1', command: { type: 'discard' }, want_view: false });
    const answer = await within(200, reply);
    expect(answer).toMatchObject({ ok: false, code: 'unavailable' });
    expect((answer as { in_doubt?: boolean }).in_doubt).toBeUndefined();
    expect(remote.waitingOn().size).toBe(0);
  });
});
