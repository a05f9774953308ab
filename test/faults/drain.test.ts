/**
 * A drain (SIGTERM) of a room's owner, on real node processes at the default lease settings,
 * as its players see it: its rooms go to peers a few at a time with their snapshots (the
 * others playing on meanwhile); the moves caught moving follow them and are answered on their
 * sockets; then its players are told to go with `overlap` (their sockets stay served until they
 * have resumed elsewhere) and only then does it say it is gone; everyone plays on, and every
 * acknowledged move is stored exactly once. Times are printed, not asserted (README: "The
 * drain's stalls").
 */
import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { chooseCpuMove, CPU_PROFILES } from '../../src/ai/index.js';
import { simulationRng } from '../../src/ai/selfplay.js';
import type { Config } from '../../src/config.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';
import { expectNothingLost, logged, longestStall, sleep, untilEveryRoomMoves, whilePlaying } from '../support/fault-cluster.js';

/** DRAIN_LOGS=DIR keeps the nodes' logs and the bots' traces of a run there (where a drain's time went). */
const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

describe('drain as players see it', () => {
  it('hands the room to a peer before telling its players to go (with overlap: their sockets stay served), and says it is gone after; the move caught moving is answered on its socket; nothing lost or doubled', async () => {
    const base = testConfig();
    configs.push(base);
    const ids = ['a', 'b', 'c'].map((n) => `${base.REDIS_PREFIX}${n}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes: NodeProcess[] = [];
    // The default lease TTL (processEnv's) and failure detection; a round pause long enough that
    // nothing moves on its own.
    for (let i = 0; i < 3; i++) nodes.push(await spawnNode(processEnv(base, ports[i]!, { NODE_ID: ids[i]!, ROUND_PAUSE_MS: '600000' })));
    const redis = new Redis(REDIS_URL);
    const clients: TestClient[] = [];
    try {
      const host = await TestClient.connect(ports[0]!);
      clients.push(host);
      await host.ok({ type: 'create_room', name: 'OnA', options: { rounds: 1, initial_flips: 0 } });
      const pb = await TestClient.connect(ports[1]!);
      // C's player is connected through A (its socket is one the drain closes).
      const pc = await TestClient.connect(ports[0]!);
      clients.push(pb, pc);
      await pb.ok({ type: 'join_room', room: host.room, name: 'OnB' });
      await pc.ok({ type: 'join_room', room: host.room, name: 'OnC' });
      await host.ok({ type: 'start_game' });
      // Acks from here on are of moves (each stored under its id).
      const playFrom = new Map(clients.map((c) => [c, c.frames.length]));
      const roomKey = `${base.REDIS_PREFIX}room:${host.room}`;
      expect(await redis.hget(roomKey, 'server_id')).toBe(ids[0]);
      // Play a little, until it is the turn of the host (on A).
      const seats = [host, pb, pc];
      await Promise.all(seats.map((client, i) => playUntil(client, (view) => client.seq >= 9 && view.current_player_id === host.playerId, i)));
      await host.waitForState((view) => view.must !== null);
      const move = chooseCpuMove(host.view as never, CPU_PROFILES[0]!, simulationRng('drain', host.seq));

      // Where the room is, every 5 ms from now on.
      const started = performance.now();
      let movedAt = 0;
      let polling = true;
      const poll = (async () => {
        while (polling && !movedAt) {
          const owner = await redis.hget(roomKey, 'server_id');
          if (owner && owner !== ids[0]) movedAt = performance.now();
          else await new Promise((r) => setTimeout(r, 5));
        }
      })();
      // When node A tells its peers it is gone (its rooms handed over: they adopt them now).
      const listener = new Redis(REDIS_URL);
      let goneAt = 0;
      listener.on('message', (_channel: string, text: string) => {
        const message = JSON.parse(text) as { kind: string; node?: string };
        if (message.kind === 'node_gone' && message.node === ids[0] && !goneAt) goneAt = performance.now();
      });
      await listener.subscribe(`${base.REDIS_PREFIX}bus:all`);
      const told = host.waitFor((f) => f.type === 'reconnect', 10_000).then(() => performance.now());
      const pcTold = pc.waitFor((f) => f.type === 'reconnect', 10_000).then(() => performance.now());
      nodes[0]!.child.kill('SIGTERM');
      // The host's move, sent as the drain starts: caught moving, it follows the room.
      const answer = host.request(move!).then((reply) => ({ reply, at: performance.now() }));

      // A's idle player is told to go once the room is handed over; the host, whose move is caught
      // moving, once that move is answered (on this socket: told first, it would have left and
      // got the answer only after resuming elsewhere). Then it resumes on B at once.
      const pcToldAt = await pcTold;
      const toldAt = await told;
      const back = await TestClient.connect(ports[1]!);
      clients.push(back);
      const resumed = await back.request({ type: 'resume', token: host.token });
      const resumedAt = performance.now();
      const pcBack = await TestClient.connect(ports[2]!);
      clients.push(pcBack);
      const pcResumed = await pcBack.ok({ type: 'resume', token: pc.token });
      const { reply, at: answeredAt } = await answer;
      while ((!movedAt || !goneAt) && performance.now() - started < 10_000) await new Promise((r) => setTimeout(r, 5));
      polling = false;
      await poll;
      listener.disconnect();
      expect(await nodes[0]!.exited).toBe(0);
      process.stdout.write(
        `drain: node gone ${(goneAt - started).toFixed(0)} ms after SIGTERM, idle player told to go at ${(pcToldAt - started).toFixed(0)} ms, host told to go at ${(toldAt - started).toFixed(0)} ms, room hosted elsewhere at ${(movedAt - started).toFixed(0)} ms, host resumed on B at ${(resumedAt - started).toFixed(0)} ms, the host's move sent at SIGTERM answered at ${(answeredAt - started).toFixed(0)} ms\n`,
      );
      expect(movedAt).toBeGreaterThan(0);
      expect(goneAt).toBeGreaterThan(0);
      // The room is on a peer before anyone is told to go (each room moves on its own, the
      // others playing on); the players are told with `overlap` (their sockets stay served), and
      // the node says it is gone only after that, so that peers keep serving those sockets.
      // movedAt is when the 5 ms poll of the room hash saw the peer (a Redis round trip after
      // it looked): up to ~10 ms after the write, which itself precedes the adopter's news.
      expect(movedAt).toBeLessThan(pcToldAt + 10);
      expect(pcToldAt).toBeLessThan(goneAt);
      expect(pc.frames.find((f) => f.type === 'reconnect')?.overlap).toBe(true);
      // The host's move caught moving followed the room and was answered on the same socket.
      const frames = host.frames.map((f) => (f.type === 'reconnect' ? 'reconnect' : f.id === reply.id ? 'answer' : '')).filter(Boolean);
      expect(frames).toEqual(['answer', 'reconnect']);
      expect(resumed.type, JSON.stringify(resumed)).toBe('ack');
      expect(reply.type, JSON.stringify(reply)).toBe('ack');

      // Everyone plays on to the end of the game.
      await Promise.all([back, pb, pcBack].map((client, i) => playUntil(client, () => false, i)));
      for (const client of [back, pb, pcBack]) expect(client.view.phase).toBe('game_over');

      const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: base.DATABASE_SCHEMA } });
      // One command's events share their time: more than one time is a command applied twice.
      const stored = await sql<{ command_id: string; n: number }[]>`select command_id, count(distinct created_at)::int as n from events where command_id is not null group by command_id`;
      await sql.end();
      const counts = new Map(stored.map((r) => [r.command_id, r.n]));
      const resumes = new Set([resumed.id, pcResumed.id]);
      const acked = clients.flatMap((c) =>
        c.frames
          .slice(playFrom.get(c) ?? 0)
          .filter((f: Frame) => f.type === 'ack' && !resumes.has(f.id))
          .map((f: Frame) => f.id as string),
      );
      expect(acked.length).toBeGreaterThan(10);
      expect(acked).toContain(reply.id);
      expect(acked.filter((id) => counts.get(id) !== 1)).toEqual([]);
    } finally {
      redis.disconnect();
      for (const client of clients) client.terminate();
      for (const node of nodes) {
        node.child.kill('SIGKILL');
        await node.exited;
      }
    }
  }, 120_000);

  it('names an adopter for each room; the rooms handed to a named adopter that does not take them (frozen) are adopted by the others, and it takes none when it wakes', async () => {
    const base = testConfig();
    configs.push(base);
    const ids = ['a', 'b', 'c'].map((n) => `${base.REDIS_PREFIX}${n}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes: NodeProcess[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await spawnNode(processEnv(base, ports[i]!, { NODE_ID: ids[i]!, ROUND_PAUSE_MS: '600000', LOG_LEVEL: 'info' })));
    const redis = new Redis(REDIS_URL);
    const listener = new Redis(REDIS_URL);
    const clients: TestClient[] = [];
    try {
      // Rooms on A, all their players on A too (nobody on C asks for a room: only adoption moves them).
      const hosts: TestClient[] = [];
      for (let r = 0; r < 6; r++) {
        const host = await TestClient.connect(ports[0]!);
        await host.ok({ type: 'create_room', name: `H${r}`, options: { rounds: 1, initial_flips: 0 } });
        const guest = await TestClient.connect(ports[0]!);
        await guest.ok({ type: 'join_room', room: host.room, name: `G${r}` });
        hosts.push(host);
        clients.push(host, guest);
      }
      const owner = (room: string) => redis.hget(`${base.REDIS_PREFIX}room:${room}`, 'server_id');
      for (const host of hosts) expect(await owner(host.room)).toBe(ids[0]);
      let adopters: Record<string, string> | undefined;
      listener.on('message', (_channel: string, text: string) => {
        const message = JSON.parse(text) as { kind: string; node?: string; adopters?: Record<string, string> };
        if (message.kind === 'node_gone' && message.node === ids[0]) adopters = message.adopters;
      });
      await listener.subscribe(`${base.REDIS_PREFIX}bus:all`);

      // B freezes (still subscribed to the bus, its heartbeat not lapsed yet): A names it anyway.
      nodes[1]!.child.kill('SIGSTOP');
      const started = performance.now();
      nodes[0]!.child.kill('SIGTERM');
      expect(await nodes[0]!.exited).toBe(0);
      const rooms = hosts.map((h) => h.room);
      let allOnC = 0;
      while (!allOnC && performance.now() - started < 15_000) {
        const owners = await Promise.all(rooms.map(owner));
        if (owners.every((o) => o === ids[2])) allOnC = performance.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(adopters).toBeDefined();
      // Spread evenly over B and C: C's three were handed over (with their snapshots); B's, not
      // taken, are named again in the departure, to C (which took its own: B took none).
      const handed = logged(nodes[0]!, 'drain: rooms handed over').map((line) => (JSON.parse(line) as { handed: number }).handed);
      if (process.env.DRAIN_LOGS) for (const [i, n] of nodes.entries()) (await import('node:fs')).writeFileSync(`${process.env.DRAIN_LOGS}/frozen-${i}.log`, n.logs.join('\n'));
      expect(handed).toEqual([3]);
      expect(Object.values(adopters!)).toEqual([ids[2], ids[2], ids[2]]);
      expect(allOnC).toBeGreaterThan(0);
      process.stdout.write(`drain with its named adopter frozen: all ${rooms.length} rooms on the other peer ${(allOnC - started).toFixed(0)} ms after SIGTERM\n`);

      // B wakes and hears the old news: it takes nothing (C hosts them now).
      nodes[1]!.child.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, 2000));
      expect(await Promise.all(rooms.map(owner))).toEqual(rooms.map(() => ids[2]));
      // Every room plays: its host resumes (on B, which asks C) and starts the game.
      for (const host of hosts) {
        const back = await TestClient.connect(ports[1]!);
        clients.push(back);
        const resumed = await back.request({ type: 'resume', token: host.token });
        expect(resumed.type, JSON.stringify(resumed)).toBe('ack');
        await back.ok({ type: 'start_game' });
      }
    } finally {
      redis.disconnect();
      listener.disconnect();
      for (const client of clients) client.terminate();
      for (const node of nodes) {
        node.child.kill('SIGCONT');
        node.child.kill('SIGKILL');
        await node.exited;
      }
    }
  }, 120_000);

  it('hands its rooms over a few at a time with their snapshots while the others play on; its players move with overlap (never a socket closed on them); every room plays on; nothing lost or doubled', async () => {
    await whilePlaying(12, async (c, bots) => {
      const drained = c.nodes[0]!;
      const rooms = [...new Set(bots.map((b) => b.room))];
      const owner = (room: string) => c.admin.hget(`${c.config.REDIS_PREFIX}room:${room}`, 'server_id');
      const drainedId = `${c.config.REDIS_PREFIX}n0`;
      for (const room of rooms) expect(await owner(room)).toBe(drainedId);
      // When each room is first seen on another node (every 10 ms).
      const moved = new Map<string, number>();
      let watching = true;
      const watcher = (async () => {
        while (watching && moved.size < rooms.length) {
          const owners = await Promise.all(rooms.map(owner));
          const t = Date.now();
          rooms.forEach((room, i) => owners[i] && owners[i] !== drainedId && !moved.has(room) && moved.set(room, t));
          await sleep(10);
        }
      })();
      const hosts = bots.filter((_, i) => i % 2 === 0);
      const at = Date.now();
      drained.child.kill('SIGTERM');
      expect(await drained.exited).toBe(0);
      watching = false;
      await watcher;
      if (process.env.DRAIN_LOGS) for (const [i, n] of c.nodes.entries()) (await import('node:fs')).writeFileSync(`${process.env.DRAIN_LOGS}/node-${i}.log`, n.logs.join('\n'));
      const handedOver = logged(drained, 'drain: rooms handed over').map((line) => JSON.parse(line) as { handed: number; handoff_ms: number });
      expect(handedOver).toHaveLength(1);
      // Every room went to its named peer with its snapshot, none left to the departure.
      expect(handedOver[0]!.handed).toBe(rooms.length);
      // The hosts, on the drained node, moved without a gap: each resumed elsewhere before its old socket closed.
      for (const host of hosts) expect(host.overlaps, host.trace.map(([t, w]) => `${t - at} ${w}`).join('\n')).toBeGreaterThanOrEqual(1);
      expect(bots.flatMap((b) => b.closedAt.filter((t) => t >= at))).toEqual([]);
      expect(await untilEveryRoomMoves(bots, 20_000)).toEqual([]);
      // What each player saw, kept before the audit so that a failing run leaves it (a view that
      // went backwards was seen once in a loaded CI run and is not explained yet).
      if (process.env.DRAIN_LOGS) (await import('node:fs')).writeFileSync(`${process.env.DRAIN_LOGS}/bots-seen.txt`, bots.map((b, i) => `bot ${i} room ${b.room} backwards ${b.backwards}\n${b.trace.map(([t, w]) => `  ${t - at} ${w}`).join('\n')}`).join('\n'));
      await expectNothingLost(c, bots, at);
      const q = (list: number[], p: number) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.ceil((p / 100) * list.length) - 1)];
      const hostedAt = [...moved.values()].map((t) => t - at);
      const stalls = bots.map((b) => longestStall(b, at, at + 3000));
      if (process.env.DRAIN_LOGS) (await import('node:fs')).writeFileSync(`${process.env.DRAIN_LOGS}/bots.txt`, bots.map((b, i) => `bot ${i} room ${b.room} stall ${stalls[i]}\n${b.trace.filter(([t]) => t > at - 300 && t < at + 3500).map(([t, w]) => `  ${t - at} ${w}`).join('\n')}`).join('\n'));
      process.stdout.write(
        `drain, ${rooms.length} rooms handed over in ${handedOver[0]!.handoff_ms} ms: hosted elsewhere p50 ${q(hostedAt, 50)} / max ${Math.max(...hostedAt)} ms after SIGTERM; players' longest wait between acks over 3 s p50 ${q(stalls, 50)} / max ${Math.max(...stalls)} ms (bots think 20-60 ms)\n`,
      );
    });
  }, 120_000);
});
