/**
 * A node that only held players' sockets dies (SIGKILL): the room's owner, on another node,
 * must drop the watchers it kept for that node, so those players count as disconnected, their
 * disconnect grace runs, and a CPU stands in for them instead of the game waiting forever.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../../scripts/lib/node-process.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, processEnv, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';
import type { Config } from '../../src/config.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

const connectedOf = (view: Frame, playerId: string) => view.players.find((p: { id: string }) => p.id === playerId)?.connected;

describe('a gateway node that dies', () => {
  it('its players are marked disconnected on the owner and a CPU plays their turns after the grace', async () => {
    const timing = { CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '800' };
    const base = testConfig({ LEASE_TTL_MS: '1500', ...timing });
    configs.push(base);
    const owner = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}owner` });
    const gateway = await spawnNode(processEnv(base, await freePort(), { ...timing, NODE_ID: `${base.REDIS_PREFIX}gateway` }));
    try {
      const host = await TestClient.connect(owner.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(gateway.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      await host.ok({ type: 'start_game' });
      await host.waitForState((v) => v.players.length === 2 && connectedOf(v, guest.playerId) === true);
      // A few moves each, over both nodes, before the gateway goes.
      await Promise.all([playUntil(host, () => host.seq >= 6), playUntil(guest, () => guest.seq >= 6, 1)]);
      expect(owner.runtime.hosted().map((a) => a.code)).toEqual([host.room]);

      const killedAt = performance.now();
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      // The owner notices (the gateway's heartbeat lapses) and drops the guest's watcher.
      await host.waitForState((v) => connectedOf(v, guest.playerId) === false, 15_000);
      const noticed = performance.now() - killedAt;
      // The host alone plays to the end: the guest's turns are the stand-in CPU's.
      await playUntil(host, () => false);
      const finished = performance.now() - killedAt;
      expect(host.view.phase).toBe('game_over');
      process.stdout.write(`dead gateway: guest disconnected after ${noticed.toFixed(0)} ms, game over after ${finished.toFixed(0)} ms (lease TTL 1500 ms, grace 800 ms)\n`);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
      await owner.drain();
    }
  });
});
