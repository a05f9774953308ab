/**
 * golfctl against the real Redis and PostgreSQL, with a running node and games played over the
 * wire: it sees the node and its rooms, shows a room, replays a game to exactly the live
 * snapshot, finds nothing wrong in a healthy cluster and finds what was broken on purpose, and
 * drains a node process, which then exits 0.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode, ROOT } from '../../scripts/lib/node-process.js';
import { runGolfctl } from '../../src/ops/cli.js';
import type { FsckReport } from '../../src/ops/fsck.js';
import type { NodeRow, RoomDetail, RoomRow } from '../../src/ops/inspect.js';
import type { ReplayReport } from '../../src/ops/replay.js';
import type { DrainResult } from '../../src/ops/drain.js';
import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { autoplay, playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';

const base = testConfig({ LEASE_TTL_MS: '1500' });
const env = { DATABASE_URL, REDIS_URL, DATABASE_SCHEMA: base.DATABASE_SCHEMA, REDIS_PREFIX: base.REDIS_PREFIX };
const nodeA = `${base.REDIS_PREFIX}a`;

async function golfctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runGolfctl(argv, { env, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

async function golfctlJson<T>(...argv: string[]): Promise<{ code: number; value: T }> {
  const { code, out, err } = await golfctl(...argv, '--json');
  if (!out) throw new Error(`no output (exit ${code}): ${err}`);
  return { code, value: JSON.parse(out) as T };
}

let node: Awaited<ReturnType<typeof startTestNode>>;
const clients: TestClient[] = [];
/** A game played to its end (host and a CPU). */
let finished = { room: '', gameId: '' };
/** A game in its first round, waiting on a human: nothing moves it while the test looks. */
let midgame = { room: '', gameId: '' };

beforeAll(async () => {
  node = await startTestNode({ ...base, NODE_ID: nodeA });
  const host = await TestClient.connect(node.port);
  clients.push(host);
  await host.ok({ type: 'create_room', name: 'Ada', options: { rounds: 1, initial_flips: 2 } });
  await host.ok({ type: 'add_cpu', profile: 'Priya' });
  await host.ok({ type: 'start_game' });
  await autoplay(host);
  finished = { room: host.room, gameId: host.view.game_id };

  const a = await TestClient.connect(node.port);
  const b = await TestClient.connect(node.port);
  clients.push(a, b);
  await a.ok({ type: 'create_room', name: 'Bea', options: { rounds: 3, initial_flips: 2 } });
  await b.ok({ type: 'join_room', room: a.room, name: 'Cy' });
  await a.ok({ type: 'start_game' });
  await Promise.all([a, b].map((client, i) => playUntil(client, (v) => client.seq >= 14 && v.phase === 'playing', i)));
  midgame = { room: a.room, gameId: a.view.game_id };
  // The snapshot writer flushes within SNAPSHOT_FLUSH_MS: let it land before looking.
  await node.runtime.snapshots.flush();
}, 120_000);

afterAll(async () => {
  for (const client of clients) await client.close();
  await node?.drain();
  await cleanup(base);
});

describe('golfctl', () => {
  it('nodes: the live node with its rooms, connected players and heartbeat age', async () => {
    const { code, value } = await golfctlJson<NodeRow[]>('nodes');
    expect(code).toBe(0);
    const row = value.find((n) => n.node === nodeA)!;
    expect(row).toMatchObject({ alive: true, rooms: 1, players: 2 });
    // Heartbeats come every third of the 1.5 s TTL.
    expect(row.heartbeat_age_ms).toBeLessThan(1500);
    expect(row.heartbeat_ttl_ms).toBeGreaterThan(0);
    const table = await golfctl('nodes');
    expect(table.out).toMatch(new RegExp(`^NODE\\s+STATE\\s+ROOMS\\s+PLAYERS`, 'm'));
    expect(table.out).toMatch(new RegExp(`^${nodeA}\\s+alive\\s+1\\s+2\\s`, 'm'));
  });

  it('rooms: the unfinished room with owner, phase and players; filters by node, status and idleness', async () => {
    const { value } = await golfctlJson<RoomRow[]>('rooms');
    expect(value.map((r) => r.room)).toEqual([midgame.room]);
    expect(value[0]).toMatchObject({ game_id: midgame.gameId, owner: nodeA, owner_alive: true, status: 'playing', phase: 'playing', round: 1, players: 2, humans: 2, connected: 2 });
    expect(value[0]!.seq).toBeGreaterThanOrEqual(14);
    expect(value[0]!.last_move_age_s).toBeLessThan(60);

    expect((await golfctlJson<RoomRow[]>('rooms', '--status', 'finished')).value.map((r) => r.room)).toEqual([finished.room]);
    expect((await golfctlJson<RoomRow[]>('rooms', '--all')).value.map((r) => r.room).sort()).toEqual([finished.room, midgame.room].sort());
    expect((await golfctlJson<RoomRow[]>('rooms', '--node', nodeA)).value).toHaveLength(1);
    expect((await golfctlJson<RoomRow[]>('rooms', '--node', 'elsewhere')).value).toHaveLength(0);
    expect((await golfctlJson<RoomRow[]>('rooms', '--idle-over', '1h')).value).toHaveLength(0);
    expect((await golfctlJson<RoomRow[]>('rooms', '--idle-over', '0s')).value).toHaveLength(1);
    const bad = await golfctl('rooms', '--idle-over', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a duration/);
    expect((await golfctl('rooms')).out).toMatch(new RegExp(`^${midgame.room}\\s+\\w{8}\\s+${nodeA}\\s+playing\\s+playing\\s+1\\s+2 \\(2 human\\)\\s+2\\s`, 'm'));
  });

  it('room CODE: snapshot, PostgreSQL epoch, lease, watchers and events', async () => {
    const { code, value } = await golfctlJson<RoomDetail>('room', midgame.room.toLowerCase(), '--events', 'all');
    expect(code).toBe(0);
    expect(value.room).toBe(midgame.room);
    expect(value.game).toMatchObject({ game_id: midgame.gameId, status: 'playing', server_id: nodeA });
    const actor = node.runtime.hosted().find((a) => a.code === midgame.room)!;
    expect(value.game.epoch).toBe(actor.epoch);
    expect(value.snapshot).toMatchObject({ seq: actor.seq, epoch: actor.epoch, phase: 'playing', state: 'playing', round: 1, behind_by: 0 });
    expect(value.lease.held).toBe(true);
    expect(value.lease.ttl_ms).toBeGreaterThan(0);
    expect(value.lease).toMatchObject({ owner: nodeA, owner_alive: true });
    expect(value.watchers.map((w) => w.name).sort()).toEqual(['Bea', 'Cy']);
    expect(value.events.map((e) => e.seq)).toEqual(Array.from({ length: actor.seq }, (_, i) => i + 1));
    expect(value.events[0]).toMatchObject({ type: 'game_created', player: 'Bea' });

    const shown = await golfctl('room', midgame.room, '--events', '3');
    if (process.env.SHOW_GOLFCTL) process.stderr.write(shown.out + (await golfctl('rooms', '--all')).out + (await golfctl('nodes')).out + (await golfctl('replay', midgame.room)).out);
    expect(shown.out).toMatch(/^lease\s+held, \d/m);
    expect(shown.out).toMatch(/^watching\s+Bea, Cy$/m);
    expect(shown.out).toContain(`events ${actor.seq - 2}..${actor.seq} of ${actor.seq}`);
    expect((await golfctl('room', 'ZZZZ')).code).toBe(1);
  });

  it('replay: the events folded step by step equal the live snapshot, for a game in play and a finished one', async () => {
    const { code, value } = await golfctlJson<ReplayReport>('replay', midgame.room);
    expect(code).toBe(0);
    const actor = node.runtime.hosted().find((a) => a.code === midgame.room)!;
    expect(value).toMatchObject({ game_id: midgame.gameId, equal: true, error: null, compared_at: actor.seq, differences: [] });
    expect(value.steps).toHaveLength(actor.seq);
    expect(value.steps.at(-1)).toMatchObject({ phase: 'playing', round: 1 });
    expect(['Bea', 'Cy']).toContain(value.steps.at(-1)!.turn);
    expect(value.steps.find((s) => s.type === 'round_started')).toMatchObject({ phase: 'initial_flip', round: 1 });

    const done = await golfctlJson<ReplayReport>('replay', finished.gameId);
    expect(done.code).toBe(0);
    expect(done.value).toMatchObject({ room: finished.room, status: 'finished', equal: true });
    expect(done.value.steps.at(-1)).toMatchObject({ type: 'game_ended', phase: 'game_over' });

    const text = await golfctl('replay', midgame.room);
    expect(text.out).toMatch(/^SEQ\s+EVENT\s+BY\s+PHASE\s+ROUND\s+TURN\s+SCORES/m);
    expect(text.out).toMatch(/^1\s+game_created\s+Bea\s+lobby\s+0\s+-$/m);
    expect(text.out).toMatch(/^2\s+player_joined\s+Bea\s+lobby\s+0\s+-\s+Bea 0$/m);
    expect(text.out).toMatch(/EQUALS the replay/);
  });

  it('fsck: clean on a healthy cluster, then finds a corrupt snapshot, a missing event and a dead owner', async () => {
    const clean = await golfctlJson<FsckReport>('fsck', '--all');
    expect(clean.value.findings).toEqual([]);
    expect(clean.code).toBe(0);
    expect(clean.value.games).toBe(2);
    expect((await golfctl('fsck')).out).toMatch(/1 games checked: 0 problems, 0 warnings/);

    // A snapshot whose content went wrong, at the right sequence and epoch.
    const { cache, events } = node.backends;
    const snapshot = (await cache.loadSnapshot(midgame.gameId))!;
    const game = (snapshot.snapshot as { context: { game: { players: Array<{ total_score: number }> } } }).context.game;
    game.players[0]!.total_score += 7;
    const redis = (cache as unknown as { redis: import('ioredis').Redis }).redis;
    await redis.set(`${base.REDIS_PREFIX}game:${midgame.gameId}`, JSON.stringify(snapshot));
    const replay = await golfctlJson<ReplayReport>('replay', midgame.room);
    expect(replay.code).toBe(1);
    expect(replay.value.equal).toBe(false);
    expect(replay.value.differences).toEqual([expect.stringMatching(/^game\.players\[0\]\.total_score: replay \d+, snapshot \d+$/)]);
    expect((await golfctl('replay', midgame.room, '--quiet')).out).toMatch(/DIFFERS from the replay:\n {2}game\.players\[0\]\.total_score/);

    // A gap in the finished game's events, and the room's owner gone from the games row.
    await events.sql`delete from events where game_id = ${finished.gameId} and seq = 5`;
    await events.sql`update games set server_id = 'ghost-node' where game_id = ${midgame.gameId}`;
    const broken = await golfctlJson<FsckReport>('fsck', '--all');
    expect(broken.code).toBe(1);
    const seen = broken.value.findings.map((f) => `${f.room} ${f.check} ${f.severity}`);
    expect(seen).toEqual(
      expect.arrayContaining([`${midgame.room} snapshot problem`, `${finished.room} events problem`, `${midgame.room} owner problem`]),
    );
    expect(broken.value.findings.find((f) => f.check === 'events')!.message).toMatch(/^events missing: 5 /);
    expect(broken.value.findings.find((f) => f.check === 'owner' && f.severity === 'problem')!.message).toMatch(/ghost-node has no heartbeat/);
    const nodes = await golfctlJson<NodeRow[]>('nodes');
    expect(nodes.value.find((n) => n.node === 'ghost-node')).toBeUndefined(); // Redis still routes to the live node
    const table = await golfctl('fsck', '--all');
    if (process.env.SHOW_GOLFCTL) process.stderr.write(table.out);
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/2 games checked: [3-9] problems/);
  });

  it('drain NODE: a node process drains on request, its room moves to the other node, and it exits 0', async () => {
    const port = await freePort();
    const other = await spawnNode(processEnv(base, port, { NODE_ID: `${base.REDIS_PREFIX}b`, CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', LOG_LEVEL: 'info' }));
    try {
      const player = await TestClient.connect(other.port);
      clients.push(player);
      await player.ok({ type: 'create_room', name: 'Dee', options: { rounds: 1 } });
      const before = await golfctlJson<NodeRow[]>('nodes');
      expect(before.value.find((n) => n.node === `${base.REDIS_PREFIX}b`)).toMatchObject({ alive: true, rooms: 1, players: 1 });

      const { code, value } = await golfctlJson<DrainResult>('drain', `${base.REDIS_PREFIX}b`, '--timeout', '20s');
      expect(value).toMatchObject({ requested: true, drained: true, rooms_before: 1, rooms_after: 0, warning: null });
      expect(code).toBe(0);
      expect(await other.exited).toBe(0);
      expect(other.logs.some((line) => line.includes('"msg":"drain requested"') && line.includes('golfctl@'))).toBe(true);
      const rooms = await golfctlJson<RoomRow[]>('rooms', '--status', 'lobby');
      expect(rooms.value.find((r) => r.room === player.room)).toMatchObject({ owner: nodeA, owner_alive: true });
      // Nobody left to ask.
      const again = await golfctl('drain', `${base.REDIS_PREFIX}b`);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/no live node/);
    } finally {
      if (other.child.exitCode === null) other.child.kill('SIGKILL');
    }
  });

  it('the bin runs the same commands as a process (tsx entry), with exit codes', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'golfctl.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const nodes = await run(['nodes', '--json']);
    expect(nodes.code).toBe(0);
    expect((JSON.parse(nodes.out) as NodeRow[]).some((n) => n.node === nodeA && n.alive)).toBe(true);
    expect((await golfctl('room')).code).toBe(2); // a missing argument is bad usage
  });
});
