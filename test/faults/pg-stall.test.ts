/**
 * A PostgreSQL that stalls (the fault proxy holds the node's link to it) or a commit that
 * PostgreSQL holds (a row lock taken by the test) does not freeze a node: an append whose
 * answer never comes is in doubt (the room takes nothing until PostgreSQL can say whether it is
 * stored, then goes on from that, and a retry by id lands exactly once, locally or through
 * another node); a slow commit does not hold the
 * other rooms; a room's mailbox is bounded.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { RoomListener } from '../../src/runtime/room-actor.js';
import { TestClient } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cleanup, DATABASE_URL, startTestNode, testConfig } from '../support/node.js';

type Node = Awaited<ReturnType<typeof startTestNode>>;
const PG_PORT = Number(new URL(DATABASE_URL).port || 5432);
const configs: Config[] = [];
const proxies: FaultProxy[] = [];
const running: Node[] = [];
const direct = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });

afterAll(async () => {
  for (const proxy of proxies) proxy.heal();
  for (const node of running) await node.drain().catch(() => undefined);
  for (const proxy of proxies) await proxy.close();
  for (const config of configs) await cleanup(config);
  await direct.end();
});

/** A node whose PostgreSQL link goes through a fault proxy (another node may share its stores). */
async function nodeBehindProxy(base: Config, nodeId: string): Promise<{ node: Node; proxy: FaultProxy }> {
  const proxy = await FaultProxy.start(PG_PORT);
  proxies.push(proxy);
  const node = await startTestNode({ ...base, NODE_ID: nodeId, DATABASE_URL: proxy.url(DATABASE_URL) });
  running.push(node);
  return { node, proxy };
}

function base(overrides: Record<string, string>): Config {
  const config = testConfig(overrides);
  configs.push(config);
  return config;
}

async function until(test: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await test())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - started;
}

/**
 * Holds a game's row locked (as a long transaction would), so that its next append waits at
 * PostgreSQL; `waiting()` says whether one does.
 */
async function lockGame(schema: string, gameId: string) {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  await conn`begin`;
  await conn.unsafe(`select 1 from "${schema}".games where game_id = $1 for update`, [gameId]);
  const [{ pid }] = (await conn`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  return {
    waiting: async () => ((await direct`select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`)[0] as { n: number }).n > 0,
    release: async () => {
      await conn`commit`;
      conn.release();
      await sql.end();
    },
  };
}

const eventsWithId = async (schema: string, commandId: string) =>
  ((await direct.unsafe(`select count(*)::int as n from "${schema}".events where command_id = $1`, [commandId]))[0] as unknown as { n: number }).n;

const hostedRoom = (node: Node, code: string) => node.runtime.hosted().find((a) => a.code === code);

describe('a stalled PostgreSQL', () => {
  it('an append whose answer never comes: the room adopts nothing until PostgreSQL says the move is in, then goes on; the retry by id lands exactly once', async () => {
    const config = base({ PG_QUERY_TIMEOUT_MS: '1500' });
    const { node, proxy } = await nodeBehindProxy(config, `${config.REDIS_PREFIX}solo`);
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H' });
    const actor = hostedRoom(node, host.room)!;
    const seqBefore = actor.seq;
    const lock = await lockGame(config.DATABASE_SCHEMA, actor.gameId);
    const seen = host.frames.length;
    const reply = host.request({ type: 'add_cpu', profile: 'Maya' }, 'cpu-local');
    await until(lock.waiting, 5000, 'the append to wait at PostgreSQL');
    // PostgreSQL commits the append, but its answer is held on the way back.
    proxy.hold();
    await lock.release();
    // Past the bound the append is in doubt: the room shows nothing of it and takes nothing
    // else while PostgreSQL cannot say (a command meanwhile is told nothing changed).
    await new Promise((r) => setTimeout(r, 2500));
    expect(hostedRoom(node, host.room)?.seq).toBe(seqBefore);
    expect(host.frames.slice(seen).some((f) => (f.type === 'state' || f.type === 'ack') && f.seq > seqBefore)).toBe(false);
    proxy.heal();
    const settledAfter = await until(() => hostedRoom(node, host.room)?.seq === seqBefore + 1, 6000, 'the room to find its move stored');
    process.stdout.write(`in doubt: the room found its move stored ${settledAfter.toFixed(0)} ms after the link healed, without a restore\n`);
    // The runtime's retry by id, refused as busy while the room settles, asks again once it has
    // settled and gets the move's ack; should its attempts run out first, the player is told the
    // outcome is unknown (never "nothing changed"). Either way a retry by id finds the move, applied once.
    const first = await reply;
    if (first.type === 'ack') expect(first).toMatchObject({ type: 'ack', id: 'cpu-local', seq: seqBefore + 1 });
    else {
      expect(first).toMatchObject({ type: 'error', code: 'unavailable' });
      expect(first.message).toMatch(/unknown.*same id/);
    }
    expect(await host.request({ type: 'add_cpu', profile: 'Maya' }, 'cpu-local')).toMatchObject({ type: 'ack', id: 'cpu-local', seq: seqBefore + 1 });
    expect(await eventsWithId(config.DATABASE_SCHEMA, 'cpu-local')).toBe(1);
    await host.waitForState((v) => v.players.length === 2);
    expect(hostedRoom(node, host.room)).toBe(actor);
    // And the room plays on.
    expect(await host.request({ type: 'add_cpu', profile: 'Kenji' })).toMatchObject({ type: 'ack', seq: seqBefore + 2 });
  });

  it('forwarded from another node: the player is told the outcome is unknown, and a retry by id lands exactly once', async () => {
    const config = base({ PG_QUERY_TIMEOUT_MS: '1500' });
    const { node: owner, proxy } = await nodeBehindProxy(config, `${config.REDIS_PREFIX}owner`);
    const gateway = await startTestNode({ ...config, NODE_ID: `${config.REDIS_PREFIX}gateway` });
    running.push(gateway);
    const creator = await TestClient.connect(owner.port);
    await creator.ok({ type: 'create_room', name: 'H' });
    const actor = hostedRoom(owner, creator.room)!;
    const seqBefore = actor.seq;
    // The same seat, now played from the other node: its commands are forwarded to the owner.
    const host = await TestClient.connect(gateway.port);
    await host.ok({ type: 'resume', token: creator.token });
    await creator.close();
    const lock = await lockGame(config.DATABASE_SCHEMA, actor.gameId);
    const started = performance.now();
    const reply = host.request({ type: 'add_cpu', profile: 'Maya' }, 'cpu-remote');
    await until(lock.waiting, 5000, 'the append to wait at PostgreSQL');
    proxy.hold();
    await lock.release();
    const first = await reply;
    const ms = performance.now() - started;
    process.stdout.write(`forwarded command in doubt: answered in ${ms.toFixed(0)} ms: ${first.type} ${first.message ?? ''}\n`);
    // Applied (PostgreSQL did commit it), but nobody could confirm it: never "nothing changed".
    expect(first).toMatchObject({ type: 'error', code: 'unavailable' });
    expect(first.message).toMatch(/unknown.*same id/);
    proxy.heal();
    let again;
    for (let i = 0; i < 20; i++) {
      again = await host.request({ type: 'add_cpu', profile: 'Maya' }, 'cpu-remote');
      if (again.type === 'ack') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(again).toMatchObject({ type: 'ack', id: 'cpu-remote', seq: seqBefore + 1 });
    expect(await eventsWithId(config.DATABASE_SCHEMA, 'cpu-remote')).toBe(1);
    await host.waitForState((v) => v.players.length === 2);
  });
});

describe('a slow commit', () => {
  it('does not hold the other rooms: their moves are committed meanwhile', async () => {
    const config = base({ PG_QUERY_TIMEOUT_MS: '8000' });
    const { node } = await nodeBehindProxy(config, `${config.REDIS_PREFIX}slots`);
    const slow = await TestClient.connect(node.port);
    await slow.ok({ type: 'create_room', name: 'Slow' });
    const other = await TestClient.connect(node.port);
    await other.ok({ type: 'create_room', name: 'Other' });
    const lock = await lockGame(config.DATABASE_SCHEMA, hostedRoom(node, slow.room)!.gameId);
    const stuck = slow.request({ type: 'add_cpu' });
    await until(lock.waiting, 5000, 'the append to wait at PostgreSQL');
    const started = performance.now();
    const quick = await Promise.race([other.request({ type: 'add_cpu' }), new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    const ms = performance.now() - started;
    await lock.release();
    process.stdout.write(`another room's move while a commit waits at PostgreSQL: ${quick ? `acked in ${ms.toFixed(0)} ms` : 'not acked within 3 s'}\n`);
    expect(quick).toMatchObject({ type: 'ack' });
    expect(await stuck).toMatchObject({ type: 'ack' });
  });
});

describe('a room’s mailbox', () => {
  it('is bounded: past 64 queued commands one is refused at once; timer and presence jobs do not pile up', async () => {
    const config = base({ PG_QUERY_TIMEOUT_MS: '8000' });
    const { node } = await nodeBehindProxy(config, `${config.REDIS_PREFIX}mailbox`);
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'H' });
    const guest = await TestClient.connect(node.port);
    await guest.ok({ type: 'join_room', room: host.room, name: 'G' });
    await guest.close();
    await host.waitForState((v) => v.players[1].connected === false);
    const actor = hostedRoom(node, host.room)!;
    const lock = await lockGame(config.DATABASE_SCHEMA, actor.gameId);
    const first = host.request({ type: 'add_cpu' }, 'first');
    await until(lock.waiting, 5000, 'the append to wait at PostgreSQL');
    const started = performance.now();
    const replies = Array.from({ length: 80 }, (_, i) => host.request({ type: 'set_options', options: { rounds: 1 + (i % 9) } }, `opt-${i}`));
    // The guest's seat watched and unwatched over and over: one presence job stands for all.
    const watcher: RoomListener = { playerId: guest.playerId, state: () => {}, evicted: () => {}, unseated: () => {} };
    for (let i = 0; i < 300; i++) {
      actor.attach(watcher);
      actor.detach(watcher);
    }
    const refused = await until(async () => host.frames.filter((f) => f.type === 'error' && String(f.id).startsWith('opt-')).length >= 16, 3000, 'refusals');
    const queued = actor.queueLength;
    process.stdout.write(`mailbox: 16 commands refused within ${(performance.now() - started).toFixed(0)} ms (${refused.toFixed(0)} ms after sending), ${queued} jobs queued\n`);
    expect(await lock.waiting()).toBe(true); // still stuck at PostgreSQL: the refusals did not wait for it
    const errors = host.frames.filter((f) => f.type === 'error' && String(f.id).startsWith('opt-'));
    expect(errors).toHaveLength(16);
    for (const error of errors) expect(error).toMatchObject({ code: 'unavailable' });
    expect(queued).toBeLessThanOrEqual(64 + 1);
    await lock.release();
    expect(await first).toMatchObject({ type: 'ack' });
    const settled = await Promise.all(replies);
    expect(settled.filter((r) => r.type === 'ack')).toHaveLength(64);
  });
});
