/**
 * Limits per client address against a real node: socket caps (behind a trusted proxy and
 * not), sockets that never take a seat, slow request headers, room creation and joining
 * rates, and room-code guessing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { SEAT_TIMEOUT_CLOSE } from '../../src/gateway/session.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { rawHttp, tryUpgrade, until } from '../support/raw.js';

const started: Array<Awaited<ReturnType<typeof startTestNode>>> = [];
async function nodeWith(overrides: Record<string, string>) {
  const node = await startTestNode(testConfig(overrides));
  started.push(node);
  return node;
}
afterAll(async () => {
  for (const node of started) {
    await node.drain();
    await cleanup(node.config as Config);
  }
});

describe('connection caps', () => {
  it('per address (429) and in all (503), refused before the upgrade; behind TRUST_PROXY the address comes from X-Forwarded-For', async () => {
    const node = await nodeWith({ TRUST_PROXY: '1', MAX_CONNECTIONS: '5', MAX_CONNECTIONS_PER_IP: '3' });
    const from = (ip: string) => tryUpgrade(node.port, { 'x-forwarded-for': `198.51.100.7, ${ip}` });
    const a = await Promise.all([from('10.0.0.1'), from('10.0.0.1'), from('10.0.0.1')]);
    expect(a.every((attempt) => attempt.ws)).toBe(true);
    const fourth = await from('10.0.0.1');
    expect(fourth.status).toBe(429);
    expect(fourth.headers?.['retry-after']).toBeDefined();
    // Another address still gets in, until the node is full.
    const b = await Promise.all([from('10.0.0.2'), from('10.0.0.2')]);
    expect(b.every((attempt) => attempt.ws)).toBe(true);
    expect((await from('10.0.0.3')).status).toBe(503);
    // A closed socket gives its slot back.
    a[0]!.ws!.terminate();
    let again = await from('10.0.0.1');
    for (let i = 0; i < 50 && again.status !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await from('10.0.0.1');
    }
    expect(again.ws).toBeDefined();
    for (const attempt of [...a, ...b, again]) attempt.ws?.terminate();
  });

  it('without TRUST_PROXY, X-Forwarded-For is not believed: the socket address counts', async () => {
    const node = await nodeWith({ MAX_CONNECTIONS_PER_IP: '2' });
    const opened = await Promise.all([tryUpgrade(node.port, { 'x-forwarded-for': '10.0.0.1' }), tryUpgrade(node.port, { 'x-forwarded-for': '10.0.0.2' })]);
    expect(opened.every((attempt) => attempt.ws)).toBe(true);
    expect((await tryUpgrade(node.port, { 'x-forwarded-for': '10.0.0.3' })).status).toBe(429);
    for (const attempt of opened) attempt.ws?.terminate();
  });
});

describe('a socket that takes no seat', () => {
  it('is closed after SEAT_TIMEOUT_MS with a 4000-range code and a reason; a seated one stays', async () => {
    const node = await nodeWith({ SEAT_TIMEOUT_MS: '300' });
    const idle = await TestClient.connect(node.port);
    const seated = await TestClient.connect(node.port);
    await seated.ok({ type: 'create_room', name: 'Host' });
    await until(() => idle.closed !== null, 3000, 'the idle socket to be closed');
    expect(idle.closed).toEqual({ code: SEAT_TIMEOUT_CLOSE, reason: 'no seat taken in time' });
    expect(SEAT_TIMEOUT_CLOSE).toBeGreaterThanOrEqual(4000);
    await new Promise((r) => setTimeout(r, 500));
    expect(seated.closed).toBeNull();
    // Leaving the room starts the wait again.
    await seated.ok({ type: 'leave' });
    await until(() => seated.closed !== null, 3000, 'the socket that left to be closed');
    expect(seated.closed?.code).toBe(SEAT_TIMEOUT_CLOSE);
  });
});

describe('ping, the client liveness probe', () => {
  it('does not keep a socket without a seat open: one that only pings is closed after SEAT_TIMEOUT_MS all the same', async () => {
    const node = await nodeWith({ SEAT_TIMEOUT_MS: '600' });
    const pinger = await TestClient.connect(node.port);
    const opened = Date.now();
    const timer = setInterval(() => pinger.closed === null && pinger.sendRaw(JSON.stringify({ type: 'ping', id: `p${Date.now()}` })), 50);
    try {
      await until(() => pinger.closed !== null, 3000, 'the pinging socket to be closed');
    } finally {
      clearInterval(timer);
    }
    expect(pinger.closed?.code).toBe(SEAT_TIMEOUT_CLOSE);
    expect(Date.now() - opened).toBeLessThan(2000);
    expect(pinger.frames.filter((f) => f.type === 'ack').length).toBeGreaterThan(3);
  });

  it('with an id that breaks the rules (too long, not ASCII, not a string): refused as a bad request, the id not echoed', async () => {
    const node = await nodeWith({});
    const client = await TestClient.connect(node.port);
    const bad = ['x'.repeat(65), 'é', '', 'a\u0000b'];
    for (const id of bad) {
      client.sendRaw(JSON.stringify({ type: 'ping', id }));
      const answer = await client.waitFor((f) => f.type === 'error' || f.type === 'ack', 3000, client.frames.length);
      expect(answer).toMatchObject({ type: 'error', code: 'bad_request' });
      expect(answer.id).toBeUndefined();
    }
    for (const id of [12, { a: 1 }, ['x'], null]) {
      client.sendRaw(JSON.stringify({ type: 'ping', id }));
      const answer = await client.waitFor((f) => f.type === 'error' || f.type === 'ack', 3000, client.frames.length);
      expect(answer).toMatchObject({ type: 'error', code: 'bad_request' });
    }
    // Extra fields or a huge one: the frame cap (16 KiB) closes it before it is read.
    client.sendRaw(JSON.stringify({ type: 'ping', id: 'ok', pad: 'x'.repeat(20_000) }));
    await until(() => client.closed !== null, 3000, 'the oversized ping to close the socket');
    expect(client.closed?.code).toBe(1009);
  });
});

describe('slow request headers', () => {
  it('a client that trickles its headers is cut off after HEADERS_TIMEOUT_MS (upgrades too)', async () => {
    const node = await nodeWith({ HEADERS_TIMEOUT_MS: '400', REQUEST_TIMEOUT_MS: '1000' });
    const player = await TestClient.connect(node.port);
    await player.ok({ type: 'create_room', name: 'Host' });
    const trickle = async (first: string) => {
      const { connect } = await import('node:net');
      const socket = connect(node.port, '127.0.0.1');
      socket.on('error', () => {});
      let closedAt = 0;
      socket.on('close', () => (closedAt = Date.now()));
      const openedAt = Date.now();
      socket.write(first);
      const drip = setInterval(() => socket.writable && socket.write('X-Slow: yes\r\n'), 100);
      await until(() => closedAt > 0, 4000, 'the slow client to be cut off').finally(() => clearInterval(drip));
      socket.destroy();
      return closedAt - openedAt;
    };
    expect(await trickle('GET / HTTP/1.1\r\nHost: x\r\n')).toBeLessThan(2500);
    expect(await trickle('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')).toBeLessThan(2500);
    // An ordinary request is unaffected, and so is an upgraded socket, long past the request deadline.
    expect((await rawHttp(node.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).response).toMatch(/^HTTP\/1.1 200/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(player.closed).toBeNull();
    expect(await player.request({ type: 'add_cpu' })).toMatchObject({ type: 'ack' });
  });
});

describe('creating and joining rooms, per address', () => {
  it('is a token bucket shared by all the sockets of an address', async () => {
    const node = await nodeWith({ ROOM_RATE_BURST: '3', ROOM_RATE_PER_MINUTE: '6' });
    const clients = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(node.port)));
    await clients[0]!.ok({ type: 'create_room', name: 'A' });
    await clients[1]!.ok({ type: 'create_room', name: 'B' });
    await clients[2]!.ok({ type: 'join_room', room: clients[0]!.room, name: 'C' });
    expect(await clients[3]!.request({ type: 'create_room', name: 'D' })).toMatchObject({ code: 'rate_limited' });
    expect(await clients[4]!.request({ type: 'join_room', room: clients[0]!.room, name: 'E' })).toMatchObject({ code: 'rate_limited' });
    // Seated players' own commands are not rooms: they go on.
    expect(await clients[0]!.request({ type: 'add_cpu' })).toMatchObject({ type: 'ack' });
  });
});

describe('guessing room codes', () => {
  it('after GUESS_LIMIT unknown codes in the window, every join by code from that address is rate_limited until the window passes', async () => {
    const node = await nodeWith({ GUESS_LIMIT: '5', GUESS_WINDOW_MS: '1500' });
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const guesser = await TestClient.connect(node.port);
    // Codes are never made with I or O (they are read aloud): these rooms do not exist.
    for (const room of ['IIIA', 'IIIB', 'IIIC', 'IIID', 'IIIE']) expect(await guesser.request({ type: 'join_room', room, name: 'G' })).toMatchObject({ code: 'unknown_room' });
    const startedAt = Date.now();
    expect(await guesser.request({ type: 'join_room', room: 'IIIF', name: 'G' })).toMatchObject({ code: 'rate_limited' });
    // Even the right code, from another socket of the same address.
    const friend = await TestClient.connect(node.port);
    expect(await friend.request({ type: 'join_room', room: host.room, name: 'F' })).toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => setTimeout(r, Math.max(0, 1600 - (Date.now() - startedAt))));
    await friend.ok({ type: 'join_room', room: host.room, name: 'F' });
  });
});

describe('guesses sent together', () => {
  it('are counted before their answers: a burst of 28 unknown codes gets GUESS_LIMIT unknown_room answers, the rest rate_limited', async () => {
    const node = await nodeWith({ GUESS_LIMIT: '5', GUESS_WINDOW_MS: '60000' });
    const guesser = await TestClient.connect(node.port);
    for (let i = 0; i < 28; i++) guesser.sendRaw(JSON.stringify({ type: 'join_room', room: `II${String.fromCharCode(65 + (i % 26))}${i < 26 ? 'A' : 'B'}`, name: 'G', id: `g${i}` }));
    await until(() => guesser.frames.filter((f) => f.type === 'error').length === 28, 5000, '28 answers');
    const codes = guesser.frames.map((f) => f.code);
    expect(codes.filter((c) => c === 'unknown_room')).toHaveLength(5);
    expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(23);
  });
});

describe('resuming with a made-up token', () => {
  it('says nothing about whether the room exists, and is a guess like any other: limited per address', async () => {
    const node = await nodeWith({ GUESS_LIMIT: '3', GUESS_WINDOW_MS: '1500' });
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const forger = await TestClient.connect(node.port);
    const forged = (room: string) => `${room}.p_madeUpPlayer1.${'x'.repeat(32)}`;
    const existing = await forger.request({ type: 'resume', token: forged(host.room) });
    const missing = await forger.request({ type: 'resume', token: forged('IIIA') });
    expect(existing).toMatchObject({ code: 'unauthorized' });
    expect(missing).toMatchObject({ code: 'unauthorized', message: existing.message });
    expect(await forger.request({ type: 'resume', token: 'not-a-token' })).toMatchObject({ code: 'unauthorized', message: existing.message });
    // Three misses: joining by code and resuming (forged tokens probe codes too) are throttled
    // for the address now, until the window passes; then the real token works.
    expect(await forger.request({ type: 'join_room', room: host.room, name: 'F' })).toMatchObject({ code: 'rate_limited' });
    for (let i = 0; i < 20; i++) expect(await forger.request({ type: 'resume', token: forged(`AB${String.fromCharCode(65 + i)}C`) })).toMatchObject({ code: 'rate_limited' });
    const back = await TestClient.connect(node.port);
    expect(await back.request({ type: 'resume', token: host.token })).toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => setTimeout(r, 1600));
    await back.ok({ type: 'resume', token: host.token });
  });
});
