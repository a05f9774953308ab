/**
 * Views cross the bus (Redis pub/sub) from a room's owner to the nodes that hold its players'
 * sockets, and pub/sub is best-effort: what is published while a subscriber is reconnecting is
 * lost. A gateway node whose link to Redis drops for a moment must not leave its players blind:
 * a lost `state` frame (here, the one that hands the turn to a player whose socket is there)
 * and a lost `moved` notice must both be noticed and made good. Nor may an owner whose link
 * drops keep a player connected forever because the detach it was sent was lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { TestClient, type Frame } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cleanup, processEnv, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';
import type { Config } from '../../src/config.js';

const configs: Config[] = [];
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start(Number(new URL(REDIS_URL).port || 6379));
});
afterAll(async () => {
  await proxy.close();
  for (const config of configs) await cleanup(config);
});

const timing = { CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '600000' };

/** An owner in this process, and a gateway process whose Redis connections go through the proxy. */
async function pair(): Promise<{ owner: Awaited<ReturnType<typeof startTestNode>>; gateway: NodeProcess }> {
  const base = testConfig({ LEASE_TTL_MS: '1500', ...timing });
  configs.push(base);
  const owner = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}owner` });
  const gateway = await spawnNode(processEnv(base, await freePort(), { ...timing, REDIS_URL: proxy.url(REDIS_URL), NODE_ID: `${base.REDIS_PREFIX}gateway`, LOG_LEVEL: 'info' }));
  return { owner, gateway };
}

/** What the gateway's checks with the owner found (its log). */
const checked = (gateway: NodeProcess) =>
  gateway.logs
    .filter((line) => line.includes('views checked'))
    .map((line) => JSON.parse(line) as { evicted: number; resent: number })
    .map((l) => `check found: ${l.resent} resent, ${l.evicted} rooms found again`)
    .join('; ') || 'no check found anything';

/** A two-seat game: the host on the owner, the guest on the gateway, and the host to play. */
async function table(owner: { port: number }, gateway: NodeProcess): Promise<{ host: TestClient; guest: TestClient }> {
  const host = await TestClient.connect(owner.port);
  await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
  const guest = await TestClient.connect(gateway.port);
  await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
  await host.ok({ type: 'start_game' });
  await guest.waitForState((v) => v.phase === 'playing');
  if (guest.view.current_player_id === guest.playerId) await playUntil(guest, (v) => v.current_player_id !== guest.playerId, 1);
  await host.waitForState((v) => v.must === 'draw');
  await guest.waitForState((v) => v.current_player_id === host.playerId);
  return { host, guest };
}

describe('views lost on the bus', () => {
  it('a state frame lost while the gateway reconnects to Redis (the one handing the turn to its player) is sent again', async () => {
    const { owner, gateway } = await pair();
    try {
      const { host, guest } = await table(owner, gateway);
      proxy.cut();
      await new Promise((r) => setTimeout(r, 150));
      // The host's turn ends while the gateway hears nothing: the guest's turn is announced to nobody.
      await playUntil(host, (v) => v.current_player_id !== host.playerId);
      expect(host.view.current_player_id).toBe(guest.playerId);
      await new Promise((r) => setTimeout(r, 150));
      const healedAt = performance.now();
      proxy.heal();
      await guest.waitForState((v) => v.must === 'draw' && v.current_player_id === guest.playerId, 10_000);
      const healed = performance.now() - healedAt;
      await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
      expect(guest.view.phase).toBe('game_over');
      process.stdout.write(`lost state frame: the guest saw its turn ${healed.toFixed(0)} ms after the link came back; ${checked(gateway)}\n`);
    } finally {
      proxy.heal();
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await owner.drain();
    }
  });

  it('a moved notice lost while the gateway reconnects: its players find the room again', async () => {
    const { owner, gateway } = await pair();
    try {
      const { host, guest } = await table(owner, gateway);
      const first = owner.runtime.hosted()[0]!;
      proxy.cut();
      await new Promise((r) => setTimeout(r, 150));
      // The room moves (as when a newer owner claims it): the old actor is fenced at its next
      // append and stops, telling the gateway (which does not hear it); the move follows the
      // room, taken again here with a newer epoch.
      await owner.backends.events.claimEpoch(first.gameId, 'someone-else');
      await playUntil(host, (v) => v.current_player_id !== host.playerId);
      expect(first.stopped).toBe(true);
      expect(owner.runtime.hosted()[0]!.epoch).toBeGreaterThan(first.epoch);
      await new Promise((r) => setTimeout(r, 150));
      const healedAt = performance.now();
      proxy.heal();
      await guest.waitForState((v) => v.must === 'draw' && v.current_player_id === guest.playerId, 10_000);
      const healed = performance.now() - healedAt;
      await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
      expect(guest.view.phase).toBe('game_over');
      process.stdout.write(`lost moved notice: the guest followed the room ${healed.toFixed(0)} ms after the link came back; ${checked(gateway)}\n`);
    } finally {
      proxy.heal();
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await owner.drain();
    }
  });

  it('a detach lost while the owner reconnects to Redis: the player who left is marked disconnected all the same', async () => {
    // A lease long enough that the cut does not also move the room (that is another test's case).
    const base = testConfig({ LEASE_TTL_MS: '5000', ...timing });
    configs.push(base);
    const gateway = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}gateway` });
    const owner = await spawnNode(processEnv(base, await freePort(), { ...timing, REDIS_URL: proxy.url(REDIS_URL), NODE_ID: `${base.REDIS_PREFIX}owner` }));
    try {
      const host = await TestClient.connect(owner.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(gateway.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      const connected = (v: Frame) => v.players.find((p: { id: string }) => p.id === guest.playerId)?.connected;
      await host.waitForState((v) => connected(v) === true);
      proxy.cut();
      await new Promise((r) => setTimeout(r, 150));
      // The guest's tab closes: the gateway asks the owner to detach it, and the owner, whose
      // link to Redis is down, never hears it.
      await guest.close();
      await new Promise((r) => setTimeout(r, 150));
      const healedAt = performance.now();
      proxy.heal();
      await host.waitForState((v) => connected(v) === false, 10_000);
      process.stdout.write(`lost detach: the guest was marked disconnected ${(performance.now() - healedAt).toFixed(0)} ms after the link came back\n`);
    } finally {
      proxy.heal();
      owner.child.kill('SIGKILL');
      await owner.exited;
      await gateway.drain();
    }
  });
});
