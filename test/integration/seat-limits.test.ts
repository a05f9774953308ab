/**
 * A seat held by many connections: its commands are rated together (wherever they come from),
 * a seat is held by a bounded number of connections, and a connection that loses its seat is
 * closed like any other that holds none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEAT_TIMEOUT_CLOSE } from '../../src/gateway/session.js';
import { MAX_LISTENERS_PER_SEAT } from '../../src/runtime/room-actor.js';
import { openBackends } from '../../src/stores/index.js';
import { createLogger } from '../../src/log.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { until } from '../support/raw.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  node = await startTestNode(testConfig({ SEAT_RATE_PER_SECOND: '5', SEAT_RATE_BURST: '10', SEAT_TIMEOUT_MS: '1500' }));
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

describe('a seat held by many connections', () => {
  it('sends commands at the seat\'s rate, however many sockets it uses; a refused one appends nothing', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const sockets = [host];
    for (let i = 0; i < 3; i++) {
      const c = await TestClient.connect(node.port);
      await c.ok({ type: 'resume', token: host.token });
      sockets.push(c);
    }
    const actor = node.runtime.hosted().find((a) => a.code === host.room)!;
    const before = actor.seq;
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sockets[i % sockets.length]!.request({ type: 'set_options', options: { rounds: 1 + (i % 9) } })),
    );
    const acked = replies.filter((r) => r.type === 'ack').length;
    const limited = replies.filter((r) => r.code === 'rate_limited').length;
    expect(acked + limited).toBe(40);
    expect(acked).toBeGreaterThanOrEqual(8); // the burst, less the room's creation, plus a little refill
    expect(acked).toBeLessThan(16);
    expect(actor.seq - before).toBeLessThanOrEqual(acked);
    await Promise.all(sockets.map((s) => s.close()));
  });

  it(`is held by at most ${MAX_LISTENERS_PER_SEAT} connections per node: the oldest gives way and is told`, async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const sockets = [host];
    for (let i = 0; i < MAX_LISTENERS_PER_SEAT + 1; i++) {
      const c = await TestClient.connect(node.port);
      await c.ok({ type: 'resume', token: host.token });
      sockets.push(c);
    }
    const actor = node.runtime.hosted().find((a) => a.code === host.room)!;
    await until(() => actor.watcherCount === MAX_LISTENERS_PER_SEAT, 5000, 'listeners capped');
    // The two oldest were told they hold no seat here now.
    for (const old of sockets.slice(0, 2)) await old.waitFor((f) => f.type === 'error' && f.code === 'unauthorized' && /too many connections/.test(f.message));
    expect(await sockets[0]!.request({ type: 'add_cpu' })).toMatchObject({ type: 'error', code: 'unauthorized' });
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('a connection that loses its seat is closed after SEAT_TIMEOUT_MS like any without one', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    const twin = await TestClient.connect(node.port);
    await twin.ok({ type: 'resume', token: guest.token });
    await guest.ok({ type: 'leave' });
    await twin.waitFor((f) => f.type === 'error' && f.code === 'unauthorized');
    await until(() => twin.closed !== null, 5000, 'the seatless twin closed');
    expect(twin.closed?.code).toBe(SEAT_TIMEOUT_CLOSE);
    await Promise.all([host.close(), guest.close()]);
  });
});

describe('what a failed start says', () => {
  it('names where a store is, never its credentials or query', async () => {
    const config = testConfig({ REDIS_URL: 'redis://user:hunter2@127.0.0.1:1/0?password=SECRET11' });
    const error = await openBackends(config, createLogger('silent')).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/127\.0\.0\.1:1/);
    expect(error?.message).not.toMatch(/SECRET11|hunter2|user/);
  });
});
