/**
 * A node whose bus subscription alone breaks (Redis closes that one connection: CLIENT KILL, a
 * pub/sub output-buffer limit, a middlebox resetting it) while its other connections, its event
 * loop and its rooms are healthy. Its peers see its subscription vanish, which is also the sign
 * of a crash: they must not end up with two nodes acting for one room, lose or double an
 * acknowledged move, or leave a room behind; and its players must not stall for long.
 */
import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { expectNothingLost, logged, longestStall, sleep, untilEveryRoomMoves, whilePlaying } from '../support/fault-cluster.js';

/** The local ports of a process's TCP connections to `port` (from `ss`). */
function portsOf(pid: number, port: number): Set<string> {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dport', '=', `:${port}`]).toString();
  const ports = new Set<string>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[2] ?? '';
    ports.add(local.slice(local.lastIndexOf(':') + 1));
  }
  return ports;
}

/** Closes, from Redis's side, the subscribed connections of process `pid`; how many. */
async function killSubscriber(admin: Redis, redisPort: number, pid: number): Promise<number> {
  const mine = portsOf(pid, redisPort);
  const list = (await admin.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    const addrPort = fields.addr?.slice(fields.addr.lastIndexOf(':') + 1);
    if (!addrPort || !mine.has(addrPort)) continue;
    if (Number(fields.sub ?? 0) + Number(fields.psub ?? 0) === 0) continue;
    await admin.client('KILL', 'ID', fields.id!);
    killed++;
  }
  return killed;
}

describe('a node whose bus subscription alone breaks', () => {
  for (const cutMs of [0, 1000]) {
    it(`${cutMs === 0 ? 'closed once (reconnects at once)' : `held down for ${cutMs} ms`}: one owner per room, nothing lost or doubled, every room plays on`, () =>
      whilePlaying(4, async (c, bots) => {
        const victim = c.nodes[0]!;
        const at = Date.now();
        let killed = 0;
        do {
          killed += await killSubscriber(c.admin, c.redis.port, victim.child.pid!);
          await sleep(20);
        } while (Date.now() - at < cutMs);
        expect(killed).toBeGreaterThan(0);
        // Every room must take moves again.
        const stuck = await untilEveryRoomMoves(bots, 20_000);
        const end = Date.now();
        const accused = c.nodes.slice(1).flatMap((n) => logged(n, 'peer taken for dead'));
        const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
        process.stdout.write(
          `subscription cut ${cutMs} ms (${killed} kills): taken for dead by ${accused.length} peer(s); players' longest stall ms: ${stalls.join(', ')}; reconnects ${bots.map((b) => b.reconnects).join(',')}, left hung ${bots.map((b) => b.leftHung).join(',')}\n`,
        );
        expect(stuck).toEqual([]);
        // A break of a second: its players back at play within a few (not the 7 s request
        // timeout of an attach whose reply the break swallowed: RemoteRooms.resync).
        expect(stalls[stalls.length - 1]).toBeLessThan(5000);
        await expectNothingLost(c, bots, at);
      }),
    90_000);
  }

  // A node whose subscriber cannot get back in (here: Redis refuses new connections, its others
  // stay up) is taken for dead and its rooms move; it could keep its players' sockets and answer
  // their `ping` while nothing reaches it over the bus (no views, no replies), so they would
  // neither play nor leave. Finding itself marked gone while deaf, it sends them elsewhere and
  // takes no new ones until it hears the bus again (Lifecycle.heartbeat).
  it('held down for good (its reconnection refused for 8 s): its players leave it and play on elsewhere within seconds', () =>
    whilePlaying(3, async (c, bots) => {
      const victim = c.nodes[0]!;
      const at = Date.now();
      // No new connection is let in (the node's others stay up), then its subscriber is closed.
      const clients = Number(/connected_clients:(\d+)/.exec(await c.admin.info('clients'))![1]);
      await c.admin.config('SET', 'maxclients', String(clients - 1));
      expect(await killSubscriber(c.admin, c.redis.port, victim.child.pid!)).toBeGreaterThan(0);
      await sleep(8000);
      const end = Date.now();
      await c.admin.config('SET', 'maxclients', '10000');
      const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
      const accused = c.nodes.slice(1).flatMap((n) => logged(n, 'peer taken for dead'));
      const expelled = logged(victim, 'taken for dead while deaf to the bus: players sent elsewhere');
      process.stdout.write(`subscriber refused for 8 s: taken for dead by ${accused.length} peer(s), sent its players away ${expelled.length} time(s); players' longest stall ms: ${stalls.join(', ')}; reconnects ${bots.map((b) => b.reconnects).join(',')}, left hung ${bots.map((b) => b.leftHung).join(',')}\n`);
      expect(stalls[stalls.length - 1]).toBeLessThan(5000);
    }),
  90_000);
});
