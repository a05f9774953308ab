import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { ThrowawayPostgres } from '../support/throwaway.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  node = await startTestNode(testConfig({ RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '40' }));
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

async function hostWithRoom(options: Record<string, unknown> = {}) {
  const host = await TestClient.connect(node.port);
  await host.ok({ type: 'create_room', name: 'Host', options });
  return host;
}

describe('protocol errors: each code, and nothing changes', () => {
  it('bad_request: non-JSON, unknown type, malformed fields; id echoed (oversized frames: test/integration/hostile.test.ts)', async () => {
    const c = await TestClient.connect(node.port);
    c.sendRaw('not json');
    expect(await c.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'fly_away' })).toMatchObject({ type: 'error', code: 'bad_request', id: expect.any(String) });
    expect(await c.request({ type: 'create_room', name: '' })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'create_room', name: 'x'.repeat(25) })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'create_room', name: 'bell\u0007' })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'create_room', name: 'ok', options: { rounds: 0 } })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'create_room', name: 'ok', options: { nonsense: true } })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'join_room', room: 'ABC', name: 'x' })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'swap', position: 6 })).toMatchObject({ code: 'bad_request' });
    expect(await c.request({ type: 'draw', source: 'floor' })).toMatchObject({ code: 'bad_request' });
    const long = 'i'.repeat(65);
    c.sendRaw(JSON.stringify({ type: 'start_game', id: long }));
    expect(await c.waitFor((f) => f.type === 'error' && /id/.test(f.message))).toMatchObject({ code: 'bad_request' });
    expect(c.frames.some((f) => f.type === 'welcome')).toBe(false);
    await c.close();
  });

  it('a name is trimmed and a room code is case-insensitive', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: '  Ann  ' });
    expect(host.view.players[0].name).toBe('Ann');
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room.toLowerCase(), name: 'Bo' });
    expect(guest.room).toBe(host.room);
  });

  it('unknown_room, unauthorized (no seat, bad token)', async () => {
    const c = await TestClient.connect(node.port);
    expect(await c.request({ type: 'join_room', room: 'QQQQ', name: 'x' })).toMatchObject({ code: 'unknown_room' });
    expect(await c.request({ type: 'draw', source: 'deck' })).toMatchObject({ code: 'unauthorized' });
    expect(await c.request({ type: 'resume', token: 'nope' })).toMatchObject({ code: 'unauthorized' });
    const host = await hostWithRoom();
    const forged = host.token.slice(0, -4) + (host.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await c.request({ type: 'resume', token: forged })).toMatchObject({ code: 'unauthorized' });
  });

  it('room_full, game_in_progress, not_host, not_your_turn, invalid_move', async () => {
    const host = await hostWithRoom({ rounds: 1 });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
    expect(await guest.request({ type: 'add_cpu' })).toMatchObject({ code: 'not_host' });
    expect(await guest.request({ type: 'start_game' })).toMatchObject({ code: 'not_host' });
    expect(await guest.request({ type: 'set_options', options: { rounds: 3 } })).toMatchObject({ code: 'not_host' });
    for (let i = 0; i < 4; i++) await host.ok({ type: 'add_cpu', profile: 'Sofia' });
    const late = await TestClient.connect(node.port);
    expect(await late.request({ type: 'join_room', room: host.room, name: 'L' })).toMatchObject({ code: 'room_full' });
    await host.ok({ type: 'remove_player', player_id: host.view.players[5].id });
    await host.ok({ type: 'start_game' });
    expect(await late.request({ type: 'join_room', room: host.room, name: 'L' })).toMatchObject({ code: 'game_in_progress' });
    expect(await host.request({ type: 'draw', source: 'deck' })).toMatchObject({ code: 'invalid_move' });
    const seq = host.seq;
    expect(await host.request({ type: 'flip_initial', positions: [0] })).toMatchObject({ code: 'invalid_move' });
    await host.ok({ type: 'flip_initial', positions: [0, 1] });
    await guest.ok({ type: 'flip_initial', positions: [0, 1] });
    await host.waitForState((v) => v.phase === 'playing');
    expect(await guest.request({ type: 'draw', source: 'deck' })).toMatchObject({ code: 'not_your_turn' });
    expect(await host.request({ type: 'discard' })).toMatchObject({ code: 'invalid_move' });
    expect(host.seq).toBeGreaterThan(seq);
  });

  it('rate_limited, then a 1008 close for a flood', async () => {
    const c = await TestClient.connect(node.port);
    for (let i = 0; i < 200; i++) c.sendRaw(JSON.stringify({ type: 'start_game', id: `f${i}` }));
    await c.waitFor((f) => f.type === 'error' && f.code === 'rate_limited');
    for (let i = 0; i < 50 && !c.closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(c.closed?.code).toBe(1008);
  });

  it('a client that keeps sending garbage is closed with 1008', async () => {
    const c = await TestClient.connect(node.port);
    for (let i = 0; i < 30; i++) c.sendRaw('{{{');
    for (let i = 0; i < 50 && !c.closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(c.closed?.code).toBe(1008);
  });

  it('unavailable when PostgreSQL is down: the move is refused, the room stays as it was, and play resumes after', async () => {
    const pg = await ThrowawayPostgres.start();
    const faulty = await startTestNode(testConfig({ DATABASE_URL: pg.url }));
    try {
      const host = await TestClient.connect(faulty.port);
      await host.ok({ type: 'create_room', name: 'H', options: { initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Maya' });
      await host.ok({ type: 'start_game' });
      await host.waitForState((v) => v.must === 'draw');
      const before = host.view;
      const seqBefore = host.seq;
      pg.stop();
      const reply = await host.request({ type: 'draw', source: 'deck' });
      expect(reply).toMatchObject({ type: 'error', code: 'unavailable' });
      // Refused before it reached PostgreSQL, the room stays as it was. Sent on a connection the
      // server had just closed, the move's fate is unknown to the node (the reply says so): the
      // room then stops, to be restored from PostgreSQL, where nothing changed.
      const actor = faulty.runtime.hosted()[0];
      if (actor) {
        expect(actor.seq).toBe(seqBefore);
        expect(actor.game.drawn).toBeNull();
        expect(actor.viewOf(host.playerId)).toEqual(before);
      } else expect(reply.message).toMatch(/unknown.*same id/);
      expect(host.seq).toBe(seqBefore);
      pg.startServer();
      let ack;
      for (let i = 0; i < 50; i++) {
        ack = await host.request({ type: 'draw', source: 'deck' });
        if (ack.type === 'ack') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(ack).toMatchObject({ type: 'ack', seq: seqBefore + 1 });
    } finally {
      await faulty.drain();
      pg.destroy();
    }
  });
});

describe('seats and delivery', () => {
  it('ping: answered with an ack of its id and the latest seq, seated or not, and changes nothing', async () => {
    const idle = await TestClient.connect(node.port);
    expect(await idle.request({ type: 'ping' })).toMatchObject({ type: 'ack', id: expect.any(String), seq: 0 });
    const host = await hostWithRoom();
    const before = host.frames.length;
    const seq = host.seq;
    expect(await host.request({ type: 'ping' })).toMatchObject({ type: 'ack', seq });
    // Only the ack: no view, no room touched.
    expect(host.frames.slice(before).map((f) => f.type)).toEqual(['ack']);
    const watcher = await TestClient.connect(node.port);
    await watcher.ok({ type: 'watch', room: host.room });
    expect(await watcher.request({ type: 'ping' })).toMatchObject({ type: 'ack', seq: watcher.seq });
    // A ping is a message like any other: a flood of them is rated and closed.
    for (let i = 0; i < 200; i++) idle.sendRaw(JSON.stringify({ type: 'ping' }));
    expect(await idle.waitFor((f) => f.type === 'error' && f.code === 'rate_limited')).toBeTruthy();
    await Promise.all([host.close(), watcher.close()]);
  });

  it('resume after a dropped socket restores the seat and its view', async () => {
    const host = await hostWithRoom();
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
    await host.waitForState((v) => v.players.length === 2 && v.players[1].connected);
    guest.terminate();
    await host.waitForState((v) => v.players[1].connected === false);
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token: guest.token });
    expect(back.playerId).toBe(guest.playerId);
    expect(back.view.you).toBe(guest.playerId);
    await host.waitForState((v) => v.players[1].connected === true);
    // The seat acts as before.
    expect(await back.request({ type: 'start_game' })).toMatchObject({ code: 'not_host' });
  });

  it('a command re-sent with the same id is applied once and acked again with the same seq', async () => {
    const host = await hostWithRoom();
    const first = await host.request({ type: 'add_cpu', profile: 'Kenji' }, 'same-id');
    const again = await host.request({ type: 'add_cpu', profile: 'Kenji' }, 'same-id');
    expect(first).toMatchObject({ type: 'ack' });
    expect(again).toEqual(first);
    await host.waitForState((v) => v.players.length === 2);
    expect(host.view.players.filter((p: { is_cpu: boolean }) => p.is_cpu)).toHaveLength(1);
    // ...also from another connection of the same seat (a retry after a reconnect).
    const other = await TestClient.connect(node.port);
    await other.ok({ type: 'resume', token: host.token });
    expect(await other.request({ type: 'add_cpu', profile: 'Kenji' }, 'same-id')).toEqual(first);
  });

  it('two rooms created at once never share a code', async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, () => TestClient.connect(node.port)));
    await Promise.all(clients.map((c, i) => c.ok({ type: 'create_room', name: `N${i}` })));
    const codes = clients.map((c) => c.room);
    expect(new Set(codes).size).toBe(codes.length);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('leaving a lobby frees the seat; leaving a game hands the seat to a CPU', async () => {
    const host = await hostWithRoom({ rounds: 1 });
    const a = await TestClient.connect(node.port);
    await a.ok({ type: 'join_room', room: host.room, name: 'A' });
    await a.ok({ type: 'leave' });
    await host.waitForState((v) => v.players.length === 1);
    const b = await TestClient.connect(node.port);
    await b.ok({ type: 'join_room', room: host.room, name: 'B' });
    await host.ok({ type: 'start_game' });
    await b.ok({ type: 'leave' });
    const view = await host.waitForState((v) => v.players[1].is_cpu === true);
    expect(view.players[1].name).toBe('B');
    expect(await b.request({ type: 'draw', source: 'deck' })).toMatchObject({ code: 'unauthorized' });
    const retry = await TestClient.connect(node.port);
    expect(await retry.request({ type: 'resume', token: b.token })).toMatchObject({ code: 'unauthorized' });
  });
});
