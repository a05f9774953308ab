import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/log.js';
import { Session, DEFAULT_LIMITS } from '../../src/gateway/session.js';
import type { RoomRuntime } from '../../src/runtime/runtime.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

/** A stand-in for a ws socket whose peer reads slowly (bufferedAmount is ours to set). */
class SlowSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: string[] = [];
  send(text: string) {
    this.sent.push(text);
  }
  close() {}
  terminate() {
    this.readyState = WebSocket.CLOSED;
  }
}

const frame = (seq: number) => JSON.stringify({ type: 'state', seq, state: { round: seq } });

describe('a slow consumer', () => {
  it('gets the latest state when it catches up, not every intermediate one; a client that never reads is dropped', async () => {
    const ws = new SlowSocket();
    const session = new Session(ws as unknown as WebSocket, {} as RoomRuntime, createLogger('silent'), DEFAULT_LIMITS);
    session.state(1, frame(1));
    expect(ws.sent).toHaveLength(1);
    ws.bufferedAmount = DEFAULT_LIMITS.slowBytes + 1;
    for (let seq = 2; seq <= 50; seq++) session.state(seq, frame(seq));
    session.send({ type: 'ack', seq: 50 }); // replies are never dropped
    expect(ws.sent.map((t) => JSON.parse(t).type)).toEqual(['state', 'ack']);
    ws.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 120));
    expect(ws.sent.map((t) => JSON.parse(t).seq)).toEqual([1, 50, 50]);
    ws.bufferedAmount = DEFAULT_LIMITS.dropBytes + 1;
    session.state(51, frame(51));
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    session.onClose();
  });
});

describe('writes', () => {
  it('frames sent to one socket in one turn of the event loop leave in one write (corked until the turn ends), in order', async () => {
    const ws = new SlowSocket();
    const calls: string[] = [];
    const socket = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
    const send = ws.send.bind(ws);
    ws.send = (text: string) => {
      calls.push(JSON.parse(text).type);
      send(text);
    };
    const session = new Session(ws as unknown as WebSocket, {} as RoomRuntime, createLogger('silent'), DEFAULT_LIMITS, undefined, socket);
    session.send({ type: 'ack', seq: 1 });
    session.state(1, frame(1));
    expect(calls).toEqual(['cork', 'ack', 'state']);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['cork', 'ack', 'state', 'uncork']);
    // The next turn corks again.
    session.state(2, frame(2));
    await new Promise((r) => setImmediate(r));
    expect(calls.slice(4)).toEqual(['cork', 'state', 'uncork']);
    session.onClose();
  });

  it('acks are the text JSON.stringify would give, with and without an id', async () => {
    const ws = new SlowSocket();
    const sent: string[] = [];
    const send = ws.send.bind(ws);
    ws.send = (text: string) => {
      sent.push(text);
      send(text);
    };
    const session = new Session(ws as unknown as WebSocket, {} as RoomRuntime, createLogger('silent'), DEFAULT_LIMITS);
    session.handle(Buffer.from(JSON.stringify({ type: 'ping', id: 'a "quoted" \\ id' })));
    session.handle(Buffer.from(JSON.stringify({ type: 'ping' })));
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([JSON.stringify({ type: 'ack', id: 'a "quoted" \\ id', seq: 0 }), JSON.stringify({ type: 'ack', seq: 0 })]);
    session.onClose();
  });
});

describe('a slow consumer that takes patches', () => {
  it('gets the whole latest view when it catches up (the patches between are skipped), then patches again', async () => {
    const ws = new SlowSocket();
    const session = new Session(ws as unknown as WebSocket, {} as RoomRuntime, createLogger('silent'), DEFAULT_LIMITS);
    session.handle(Buffer.from(JSON.stringify({ type: 'hello', accept: ['patch'] })));
    await new Promise((r) => setTimeout(r, 10));
    const update = (id: number) => ({ seq: id, id, state: JSON.stringify({ round: id }), patch: id > 1 ? { prior: id - 1, ops: `[{"op":"replace","path":"/round","value":${id}}]` } : null });
    session.view(update(1));
    session.view(update(2));
    ws.bufferedAmount = DEFAULT_LIMITS.slowBytes + 1;
    for (let id = 3; id <= 20; id++) session.view(update(id));
    ws.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 120));
    session.view(update(21));
    // A patch that does not follow the view the client holds is never sent: here id 22 claims 99.
    session.view({ ...update(22), patch: { prior: 99, ops: '[]' } });
    const frames = ws.sent.map((t) => JSON.parse(t));
    expect(frames.map((f) => [f.type, f.seq, f.rev, f.base])).toEqual([
      ['hello', undefined, undefined, undefined],
      ['ack', 0, undefined, undefined],
      ['state', 1, 1, undefined],
      ['patch', 2, 2, 1],
      ['state', 20, 3, undefined],
      ['patch', 21, 4, 3],
      ['state', 22, 5, undefined],
    ]);
    session.onClose();
  });
});

describe('heartbeats', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  const config = testConfig({ WS_PING_MS: '100' });
  beforeAll(async () => {
    node = await startTestNode(config);
  });
  afterAll(async () => {
    await node.drain();
    await cleanup(config);
  });

  it('drop a socket that never answers a ping; a live client stays', async () => {
    const live = new WebSocket(`ws://127.0.0.1:${node.port}/ws`);
    await new Promise((r) => live.once('open', r));
    // A raw TCP client that completes the upgrade and then never reads or answers.
    const dead = connect(node.port, '127.0.0.1');
    let closed = false;
    dead.on('close', () => (closed = true));
    dead.on('error', () => {});
    dead.resume(); // reads (and ignores) what it gets: it only never answers
    dead.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    for (let i = 0; i < 150 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(true);
    // The live client answered every ping (ws does so by itself) and is still connected.
    expect(live.readyState).toBe(WebSocket.OPEN);
    live.close();
  });
});
