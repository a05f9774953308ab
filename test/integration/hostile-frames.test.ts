/**
 * Frames from hostile clients against a real node: sizes and nesting that would stall the
 * event loop, clients cut off for abuse, malformed ids and names.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_FRAME_BYTES } from '../../src/gateway/protocol.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { until } from '../support/raw.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  node = await startTestNode(testConfig());
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

/** A JSON text of `bytes` bytes that is arrays nested as deep as it can. */
function nested(bytes: number): string {
  const head = '{"type":"create_room","name":"x","options":';
  const depth = Math.floor((bytes - head.length - 1) / 2);
  return `${head}${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('size and depth before parsing', () => {
  it('a 1 MiB nested frame never reaches JSON.parse (ws closes 1009 by its length); other clients are served promptly', async () => {
    const parse = JSON.parse;
    const parsedSizes: number[] = [];
    const spy = vi.spyOn(JSON, 'parse').mockImplementation(function (this: unknown, text: string, reviver?: (key: string, value: unknown) => unknown) {
      parsedSizes.push(typeof text === 'string' ? text.length : -1);
      return parse.call(JSON, text, reviver);
    });
    try {
      const probe = await TestClient.connect(node.port);
      const attackers = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(node.port)));
      const frame = nested(1024 * 1024 - 64);
      expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(1024 * 1024);
      for (const attacker of attackers) attacker.sendRaw(frame);
      // Meanwhile a player asks for something every few milliseconds: each answer must come quickly.
      const rtts: number[] = [];
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        expect(await probe.request({ type: 'draw', source: 'deck' })).toMatchObject({ code: 'unauthorized' });
        rtts.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(parsedSizes.filter((size) => size > MAX_FRAME_BYTES)).toEqual([]);
      // A parse of one such frame takes 300 ms or more; five of them back to back well over a second.
      expect(Math.max(...rtts)).toBeLessThan(150);
      await until(() => attackers.every((a) => a.closed !== null), 5000, 'the attackers to be closed');
      expect(attackers.map((a) => a.closed?.code)).toEqual([1009, 1009, 1009, 1009, 1009]);
      await probe.close();
    } finally {
      spy.mockRestore();
    }
  });

  it('a frame nested deeper than any message is refused without parsing it; a frame at the limit is read', async () => {
    const c = await TestClient.connect(node.port);
    const before = c.frames.length;
    c.sendRaw(nested(MAX_FRAME_BYTES));
    expect(await c.waitFor((f) => f.type === 'error', 5000, before)).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/nested deeper/) });
    const padded = JSON.stringify({ type: 'start_game', id: 'at-limit', pad: '' });
    c.sendRaw(padded.replace('"pad":""', `"pad":"${'x'.repeat(MAX_FRAME_BYTES - padded.length)}"`));
    expect(await c.waitFor((f) => f.id === 'at-limit')).toMatchObject({ code: 'unauthorized' });
    expect(c.closed).toBeNull();
    c.sendRaw(JSON.stringify({ type: 'start_game', pad: 'x'.repeat(MAX_FRAME_BYTES) }));
    await until(() => c.closed !== null, 5000, 'the close');
    expect(c.closed?.code).toBe(1009);
  });
});

describe('a client closed for abuse is served nothing more', () => {
  it('after the 1008, the create_room frames it already sent create no room', async () => {
    const roomsBefore = node.runtime.roomCount;
    const c = await TestClient.connect(node.port);
    // 26 refusals within the window close it (25 strikes are tolerated); 15 rooms are asked for behind them.
    for (let i = 0; i < 26; i++) c.sendRaw('{{{');
    for (let i = 0; i < 15; i++) c.sendRaw(JSON.stringify({ type: 'create_room', name: `R${i}`, id: `late-${i}` }));
    await until(() => c.closed !== null, 5000, 'the 1008');
    expect(c.closed?.code).toBe(1008);
    // Whatever was still in flight had its chance to create rooms by now.
    await new Promise((r) => setTimeout(r, 500));
    expect(node.runtime.roomCount - roomsBefore).toBe(0);
    expect(c.frames.filter((f) => f.type === 'welcome')).toEqual([]);
  });
});

describe('command ids', () => {
  it('must be 1 to 64 printable ASCII characters; an invalid id is refused and never echoed', async () => {
    const roomsBefore = node.runtime.roomCount;
    const c = await TestClient.connect(node.port);
    for (const id of ['a\u0000b', '\ud800', 'caf\u00e9', '', 'tab\there', 'x'.repeat(65)]) {
      const from = c.frames.length;
      c.sendRaw(JSON.stringify({ type: 'create_room', name: 'Ann', id }));
      const reply = await c.waitFor((f) => f.type === 'error' || f.type === 'welcome', 5000, from);
      expect(reply).toMatchObject({ type: 'error', code: 'bad_request', message: expect.stringMatching(/^id: /) });
      expect(reply).not.toHaveProperty('id');
    }
    expect(node.runtime.roomCount).toBe(roomsBefore);
    // Printable ASCII, spaces included, up to 64: fine.
    expect(await c.request({ type: 'create_room', name: 'Ann' }, ` ~${'z'.repeat(62)}`)).toMatchObject({ type: 'ack', id: ` ~${'z'.repeat(62)}` });
  });


  it('an invalid id never reaches PostgreSQL, so it cannot fail the moves group-committed with it', async () => {
    const hosts = await Promise.all(Array.from({ length: 40 }, () => TestClient.connect(node.port)));
    await Promise.all(hosts.map((h, i) => h.ok({ type: 'create_room', name: `H${i}` })));
    const from = hosts.map((h) => h.frames.length);
    // Sent together: they share append transactions (one in flight, the rest batched behind it).
    hosts.forEach((h, i) => h.sendRaw(JSON.stringify({ type: 'add_cpu', id: i === 20 ? 'bad\u0000id' : `cpu-${i}` })));
    const replies = await Promise.all(hosts.map((h, i) => h.waitFor((f) => f.type === 'error' || (f.type === 'ack' && f.id === `cpu-${i}`), 10_000, from[i])));
    expect(replies[20]).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(replies.filter((_, i) => i !== 20).map((r) => r.type)).toEqual(Array(39).fill('ack'));
  });
});

describe('names', () => {
  it('are NFC-normalised and trimmed; invisible, control and stacked-mark names are refused with a reason', async () => {
    const c = await TestClient.connect(node.port);
    const refused = async (name: string, why: RegExp) =>
      expect(await c.request({ type: 'create_room', name })).toMatchObject({ code: 'bad_request', message: expect.stringMatching(why) });
    await refused('Ann\u200b', /invisible/);
    await refused('\u3164', /invisible/);
    await refused('\u2800\u2800', /invisible/);
    await refused('A\u202eB', /invisible/);
    await refused('q\u0300\u0301\u0302', /stack/); // q has no precomposed forms: NFC leaves three marks
    await refused('x'.repeat(25), /1 to 24/);
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: '  Rene\u0301  ' });
    expect(host.view.players[0].name).toBe('Ren\u00e9');
    const guest = await TestClient.connect(node.port);
    expect(await guest.request({ type: 'join_room', room: host.room, name: '\u200d' })).toMatchObject({ code: 'bad_request' });
    await guest.ok({ type: 'join_room', room: host.room, name: '\u00e9\u00e9' });
    expect(guest.view.players[1].name).toBe('\u00e9\u00e9');
  });
});
