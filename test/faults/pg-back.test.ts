/**
 * A room whose timer-driven move PostgreSQL's restart failed is playable again as soon as
 * PostgreSQL answers, on the node's probe (one for the whole node, every 100 ms while it is
 * down), not at the next step of a per-room retry timer: a room stopped because its append was
 * in doubt was activated again 100 ms after, doubling to 2 s, and one whose append failed for
 * sure tried its move again every second.
 *
 * A real node process, its link to a throwaway PostgreSQL through a fault proxy. The room's CPU
 * is about to move and nobody watches the room (its only human left), so nothing but the node
 * itself can bring it back: the link is held as the CPU moves, PostgreSQL is stopped (the move
 * is lost with the connections: in doubt, the room waits for PostgreSQL to say whether it is
 * stored (RoomActor.settle; before, it stopped and was activated again); or, if it was waiting for a new
 * connection, it failed for sure and the room stays), and started again 3.6 s later: between
 * the old backoff's tries at about 3.2 and 5.2 s. The node must say that the room came back on
 * PostgreSQL answering (brought back, or its move retried), and the CPU's move must be stored
 * within a second of that (the old backoff: about 1.5 s, and a restored CPU thought again for
 * its whole second); the times are printed.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cleanup, processEnv, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort, ThrowawayPostgres } from '../support/throwaway.js';

let pg: ThrowawayPostgres | null = null;
let proxy: FaultProxy | null = null;
let node: NodeProcess | null = null;
let config: Config | null = null;
afterAll(async () => {
  node?.child.kill('SIGKILL');
  await node?.exited;
  await proxy?.close();
  pg?.destroy();
  if (config) await cleanup(config);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL answers again', () => {
  it('a room its restart stopped is activated again on the node’s probe, not after a backoff', async () => {
    pg = await ThrowawayPostgres.start();
    proxy = await FaultProxy.start(pg.port);
    config = testConfig({ DATABASE_URL: pg.url });
    // The CPU thinks long enough for the test to hold the link before it moves.
    node = await spawnNode(processEnv(config, await freePort(), { DATABASE_URL: proxy.url(pg.url), CPU_THINK_MS: '1000', LOG_LEVEL: 'info' }));
    const direct = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      // Rooms created all at once open several of the pool's connections: the CPU's move then
      // finds one open (and is lost on it: in doubt) rather than waiting for a new one.
      const others = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(node!.port)));
      await Promise.all(others.map((c, i) => c.ok({ type: 'create_room', name: `O${i}` })));
      await Promise.all(others.map((c) => c.close()));
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'H', options: { rounds: 9 } });
      await host.ok({ type: 'add_cpu' });
      await host.ok({ type: 'start_game' });
      const gameId = host.view.game_id as string;
      const code = host.room;
      // The host plays until it is the CPU's turn (the host's move that ended its turn is stored).
      await playUntil(host, (view) => view.phase === 'playing' && view.current_player_id !== view.you);
      // Nobody watches the room; the CPU's move, due in about a second, will wait on the link
      // (held now: the pool's other open connections take whatever else the node asks meanwhile).
      await host.close();
      proxy.hold();
      const lastSeq = async () => ((await direct.unsafe(`select last_seq from "${config!.DATABASE_SCHEMA}".games where game_id = $1`, [gameId]))[0] as unknown as { last_seq: number }).last_seq;
      const before = await lastSeq();
      await sleep(1300);
      pg.stop();
      const stopped = performance.now();
      proxy.heal();
      await sleep(200);
      const failed = node.logs.find((line) => /append in doubt|append failed/.test(line) && line.includes(`"room":"${code}"`));
      expect(failed, 'the CPU moved before the link was held (a very slow machine?)').toBeDefined();
      await sleep(Math.max(0, stopped + 3600 - performance.now()));
      pg.startServer();
      const answering = performance.now();
      let moved = 0;
      while (performance.now() - answering < 10_000) {
        if ((await lastSeq().catch(() => before)) > before) {
          moved = performance.now();
          break;
        }
        await sleep(10);
      }
      const back = node.logs.find((line) => line.includes('PostgreSQL answers again'));
      const inDoubt = failed!.includes('in doubt');
      process.stdout.write(
        `the CPU's move ${inDoubt ? 'in doubt (the room waited for PostgreSQL to say)' : 'failed (the room stayed)'}; PostgreSQL down ${(answering - stopped).toFixed(0)} ms: the move stored ${moved ? (moved - answering).toFixed(0) : 'never'} ms after PostgreSQL answered (${(moved - stopped).toFixed(0)} ms after the stop)\n${back ?? '(no line of the node saying PostgreSQL answers again)'}\n`,
      );
      expect(moved).toBeGreaterThan(0);
      // Brought back by the node's probe, not by a player (there is none) nor by a per-room timer.
      expect(back).toBeDefined();
      // In doubt, the room asked PostgreSQL whether its move was stored once it answered (the
      // transaction died with the restart: not stored) and went on, its timer due at once.
      if (inDoubt) expect(node.logs.some((line) => line.includes('append in doubt: found not stored') && line.includes(`"room":"${code}"`))).toBe(true);
      else expect(JSON.parse(back!)).toMatchObject({ retried: 1 });
      expect(moved - answering).toBeLessThan(1000);
    } finally {
      await direct.end();
    }
  }, 60_000);
});
