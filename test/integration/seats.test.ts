/**
 * Seats (security review, items 4 and 5): a player who leaves, or whom the host removes, stops
 * hearing from the room on every connection and node holding that seat; and create_room or
 * join_room retried with the same id on one connection seats the player once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import type { Config } from '../../src/config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type TestNode = Awaited<ReturnType<typeof startTestNode>>;

let config: Config;
let a: TestNode;
let b: TestNode;
beforeAll(async () => {
  config = testConfig({ LEASE_TTL_MS: '1500', ROUND_PAUSE_MS: '600000' });
  a = await startTestNode({ ...config, NODE_ID: `${config.REDIS_PREFIX}a` });
  b = await startTestNode({ ...config, NODE_ID: `${config.REDIS_PREFIX}b` });
});
afterAll(async () => {
  await b.drain();
  await a.drain();
  await cleanup(config);
});

const unseatedNotice = (c: TestClient) => c.waitFor((f) => f.type === 'error' && f.id === undefined && f.code === 'unauthorized', 5000);
const statesAfter = (c: TestClient, index: number) => c.frames.slice(index).filter((f: Frame) => f.type === 'state');

describe('a seat that is given up is given up everywhere', () => {
  it('leave mid-game on one socket: the same seat on other sockets (both nodes) gets no more state and its commands are refused', async () => {
    const host = await TestClient.connect(a.port);
    await host.ok({ type: 'create_room', name: 'Host', options: { initial_flips: 0 } });
    const guest = await TestClient.connect(a.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
    const sameNode = await TestClient.connect(a.port);
    await sameNode.ok({ type: 'resume', token: guest.token });
    const otherNode = await TestClient.connect(b.port);
    await otherNode.ok({ type: 'resume', token: guest.token });
    await host.ok({ type: 'start_game' });
    for (const c of [guest, sameNode, otherNode]) await c.waitForState((v) => v.phase === 'playing');

    await guest.ok({ type: 'leave' });
    const notices = await Promise.allSettled([unseatedNotice(sameNode), unseatedNotice(otherNode)]);
    const marks = [sameNode.frames.length, otherNode.frames.length];
    const seq = host.seq;
    // The game goes on (the host plays, a CPU plays the seat that was left).
    await playUntil(host, () => host.seq >= seq + 6);
    await sleep(300);
    const late = [statesAfter(sameNode, marks[0]!).length, statesAfter(otherNode, marks[1]!).length];
    process.stdout.write(`after leave: unseat notices ${notices.map((n) => n.status).join('/')}, later state frames on the other sockets ${late.join('/')}\n`);
    expect(notices.map((n) => n.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(late).toEqual([0, 0]);
    for (const c of [sameNode, otherNode]) {
      expect(await c.request({ type: 'draw', source: 'deck' })).toMatchObject({ type: 'error', code: 'unauthorized' });
    }
    await Promise.all([host, guest, sameNode, otherNode].map((c) => c.close()));
  });

  it('a player the host removes from the lobby stops getting the room on every socket: later joins are invisible to it', async () => {
    const host = await TestClient.connect(a.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const removed = await TestClient.connect(a.port);
    await removed.ok({ type: 'join_room', room: host.room, name: 'Removed' });
    const elsewhere = await TestClient.connect(b.port);
    await elsewhere.ok({ type: 'resume', token: removed.token });
    await host.waitForState((v) => v.players.length === 2 && v.players[1].connected);
    await sleep(100);

    await host.ok({ type: 'remove_player', player_id: removed.playerId });
    const notices = await Promise.allSettled([unseatedNotice(removed), unseatedNotice(elsewhere)]);
    const marks = [removed.frames.length, elsewhere.frames.length];
    const newcomer = await TestClient.connect(b.port);
    await newcomer.ok({ type: 'join_room', room: host.room, name: 'Newcomer' });
    await host.waitForState((v) => v.players.some((p: { name: string }) => p.name === 'Newcomer'));
    await sleep(300);
    const late = [statesAfter(removed, marks[0]!), statesAfter(elsewhere, marks[1]!)];
    const sawNewcomer = [removed, elsewhere].map((c) => c.frames.some((f: Frame) => f.type === 'state' && JSON.stringify(f).includes('Newcomer')));
    process.stdout.write(`after remove_player: unseat notices ${notices.map((n) => n.status).join('/')}, later state frames ${late.map((l) => l.length).join('/')}, saw the newcomer ${sawNewcomer.join('/')}\n`);
    expect(notices.map((n) => n.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(late.map((l) => l.length)).toEqual([0, 0]);
    expect(sawNewcomer).toEqual([false, false]);
    expect(await removed.request({ type: 'set_options', options: { rounds: 2 } })).toMatchObject({ type: 'error', code: 'unauthorized' });
    await Promise.all([host, removed, elsewhere, newcomer].map((c) => c.close()));
  });
});

/** Sends a message twice with one id without waiting, and collects both replies. */
async function twice(c: TestClient, message: Frame, id: string): Promise<Frame[]> {
  const from = c.frames.length;
  c.sendRaw(JSON.stringify({ ...message, id }));
  c.sendRaw(JSON.stringify({ ...message, id }));
  await c.waitFor((f) => f.type !== 'welcome' && f.id === id && c.frames.slice(from).filter((g) => g.id === id).length >= 2, 10_000, from);
  return c.frames.slice(from).filter((f) => f.id === id);
}

const welcomesSince = (c: TestClient, from: number) => c.frames.slice(from).filter((f) => f.type === 'welcome');
const roomsNamed = (name: string) =>
  [a, b].flatMap((n) => n.runtime.hosted()).filter((actor) => actor.game.players.some((p) => p.name === name)).map((actor) => actor.code);

describe('create_room and join_room retried with the same id seat once', () => {
  it('create_room sent twice at once, then again: one room, one seat, the same welcome and ack', async () => {
    const c = await TestClient.connect(a.port);
    const replies = await twice(c, { type: 'create_room', name: 'Twice' }, 'seat-1');
    await sleep(100);
    const again = await c.request({ type: 'create_room', name: 'Twice' }, 'seat-1');
    const welcomes = welcomesSince(c, 0);
    process.stdout.write(`create_room x3 with one id: ${new Set(welcomes.map((w) => w.room)).size} room(s), ${roomsNamed('Twice').length} hosted\n`);
    expect(roomsNamed('Twice')).toHaveLength(1);
    expect(replies.map((r) => r.type)).toEqual(['ack', 'ack']);
    expect(again).toEqual(replies[0]);
    expect(replies[1]).toEqual(replies[0]);
    expect(welcomes).toHaveLength(3);
    for (const w of welcomes) expect({ room: w.room, player_id: w.player_id, token: w.token }).toEqual({ room: welcomes[0]!.room, player_id: welcomes[0]!.player_id, token: welcomes[0]!.token });
    expect(c.view.players).toHaveLength(1);
    await c.close();
  });

  it('join_room sent twice at once (to a room on another node): one seat, the same welcome and ack', async () => {
    const host = await TestClient.connect(a.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const c = await TestClient.connect(b.port);
    const replies = await twice(c, { type: 'join_room', room: host.room, name: 'Joiner' }, 'join-1');
    const again = await c.request({ type: 'join_room', room: host.room, name: 'Joiner' }, 'join-1');
    await sleep(200);
    const seated = a.runtime.hosted().find((x) => x.code === host.room)!.game.players.map((p) => p.name);
    process.stdout.write(`join_room x3 with one id: seats ${seated.join(', ')}\n`);
    expect(seated).toEqual(['Host', 'Joiner']);
    expect(replies.map((r) => r.type)).toEqual(['ack', 'ack']);
    expect(again).toEqual(replies[0]);
    const welcomes = welcomesSince(c, 0);
    expect(new Set(welcomes.map((w) => `${w.room}|${w.player_id}|${w.token}`)).size).toBe(1);
    await Promise.all([host.close(), c.close()]);
  });

  it('the same id on a different seat-taking command is refused, and seats nobody', async () => {
    const c = await TestClient.connect(a.port);
    await c.request({ type: 'create_room', name: 'Reuser' }, 'same');
    const first = c.room;
    // A room command with that id is the room's to judge (it never saw the creation's id)...
    expect(await c.request({ type: 'add_cpu', profile: 'Kenji' }, 'same')).toMatchObject({ type: 'ack' });
    await c.waitForState((v) => v.players.length === 2);
    // ...but a seat-taking command with that id and other content is another command under a used id.
    const other = await TestClient.connect(a.port);
    await other.ok({ type: 'create_room', name: 'Other' });
    const from = c.frames.length;
    expect(await c.request({ type: 'join_room', room: other.room, name: 'Reuser' }, 'same')).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(await c.request({ type: 'create_room', name: 'Somebody else' }, 'same')).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(welcomesSince(c, from)).toHaveLength(0);
    expect(c.room).toBe(first);
    await other.waitForState((v) => v.players.length === 1);
    await Promise.all([c.close(), other.close()]);
  });
});
