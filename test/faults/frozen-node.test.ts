/**
 * A node frozen (SIGSTOP) for longer than the lease TTL, then woken (SIGCONT), with real node
 * processes: its peers give up on it meanwhile (its players are disconnected and stood in for,
 * its rooms adopted), and when it wakes its players, whose sockets stayed open, must see the
 * game again and count as connected, instead of getting acks and no views.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
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

const timing = { CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '800' };
const connectedOf = (view: Frame, playerId: string) => view.players.find((p: { id: string }) => p.id === playerId)?.connected;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seqs of the views a client got, in order. */
const seqs = (client: TestClient) => client.frames.filter((f) => f.type === 'state' || f.type === 'welcome').map((f) => f.seq as number);
const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

function setup() {
  const base = testConfig({ LEASE_TTL_MS: '1500', ...timing });
  configs.push(base);
  return base;
}

describe('a node frozen, then woken', () => {
  it('a gateway-only node: its players are stood in for while it is frozen, and see the game again when it wakes', async () => {
    const base = setup();
    const owner = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}owner` });
    const gateway = await spawnNode(processEnv(base, await freePort(), { ...timing, NODE_ID: `${base.REDIS_PREFIX}gateway` }));
    try {
      const host = await TestClient.connect(owner.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(gateway.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      await host.ok({ type: 'start_game' });
      await Promise.all([playUntil(host, () => host.seq >= 6), playUntil(guest, () => guest.seq >= 6, 1)]);

      gateway.child.kill('SIGSTOP');
      await host.waitForState((v) => connectedOf(v, guest.playerId) === false, 15_000);
      // The game goes on without the guest: its turns are the stand-in's.
      const frozenSeq = host.seq;
      await playUntil(host, () => host.seq >= frozenSeq + 6);
      const wokenAt = performance.now();
      gateway.child.kill('SIGCONT');
      // Its socket never closed: the guest must see the current game again, and be connected.
      const target = host.seq;
      await guest.waitForState(() => guest.seq >= target, 15_000);
      const sees = performance.now() - wokenAt;
      await host.waitForState((v) => connectedOf(v, guest.playerId) === true, 15_000);
      const back = performance.now() - wokenAt;
      await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1)]);
      expect(guest.view.phase).toBe('game_over');
      expect(nonDecreasing(seqs(guest))).toBe(true);
      process.stdout.write(`frozen gateway woken: its player saw seq ${target} after ${sees.toFixed(0)} ms, connected again after ${back.toFixed(0)} ms\n`);
    } finally {
      gateway.child.kill('SIGCONT');
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      await owner.drain();
    }
  });

  it('the owner: its room is adopted while it is frozen, and its own players follow it when it wakes', async () => {
    const base = setup();
    const survivor = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}survivor` });
    const third = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}third` });
    const owner = await spawnNode(processEnv(base, await freePort(), { ...timing, NODE_ID: `${base.REDIS_PREFIX}owner` }));
    try {
      const host = await TestClient.connect(owner.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await TestClient.connect(survivor.port);
      await guest.ok({ type: 'join_room', room: host.room, name: 'Guest' });
      const q = await TestClient.connect(third.port);
      await q.ok({ type: 'join_room', room: host.room, name: 'Q' });
      await host.ok({ type: 'start_game' });
      await Promise.all([playUntil(host, () => host.seq >= 6), playUntil(guest, () => guest.seq >= 6, 1), playUntil(q, () => q.seq >= 6, 2)]);

      owner.child.kill('SIGSTOP');
      for (let i = 0; i < 600 && ![survivor, third].some((n) => n.runtime.hosted().some((a) => a.code === host.room)); i++) await sleep(25);
      const qp = playUntil(q, () => false, 2);
      // The guest plays on; the host's turns are the stand-in's.
      const frozenSeq = guest.seq;
      await playUntil(guest, () => guest.seq >= frozenSeq + 6, 1);
      const wokenAt = performance.now();
      owner.child.kill('SIGCONT');
      const target = guest.seq;
      await host.waitForState(() => host.seq >= target, 15_000);
      const sees = performance.now() - wokenAt;
      await guest.waitForState((v) => connectedOf(v, host.playerId) === true, 15_000);
      const back = performance.now() - wokenAt;
      await Promise.all([playUntil(host, () => false), playUntil(guest, () => false, 1), qp]);
      expect(host.view.phase).toBe('game_over');
      expect(nonDecreasing(seqs(q))).toBe(true);
      expect(nonDecreasing(seqs(host))).toBe(true);
      expect(nonDecreasing(seqs(guest))).toBe(true);
      process.stdout.write(`frozen owner woken: its player saw seq ${target} after ${sees.toFixed(0)} ms, connected again after ${back.toFixed(0)} ms\n`);
    } finally {
      owner.child.kill('SIGCONT');
      owner.child.kill('SIGKILL');
      await owner.exited;
      await survivor.drain();
      await third.drain();
    }
  });

  it('the owner, frozen for good: its own players notice (ping unanswered), leave it and play on elsewhere while it stays frozen', async () => {
    const base = setup();
    const survivor = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}survivor` });
    const third = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}third` });
    const owner = await spawnNode(processEnv(base, await freePort(), { ...timing, NODE_ID: `${base.REDIS_PREFIX}owner` }));
    // Sockets go to the nodes in turn, the frozen one included (a load balancer does not know
    // it hangs: its kernel still accepts connections).
    const ports = [owner.port, survivor.port, third.port];
    let turn = 0;
    const port = () => ports[turn++ % ports.length]!;
    const host = new ChaosBot(port, 0, 40);
    const guest = new ChaosBot(port, 3, 40);
    try {
      await host.connect();
      await guest.connect();
      await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18, initial_flips: 0 } });
      await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
      await host.request({ type: 'start_game' });
      const nudger = setInterval(() => [host, guest].forEach((b) => b.tick()), 500);
      try {
        while (host.acked.size < 6) await sleep(50);
        const frozenAt = Date.now();
        owner.child.kill('SIGSTOP');
        const hostMoves = () => [...host.acked.values()].filter((a) => a.at > frozenAt).length;
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && hostMoves() < 4) await sleep(50);
        // Still frozen: the host is not waiting for it to wake.
        expect(owner.child.exitCode).toBeNull();
        expect(host.leftHung).toBeGreaterThanOrEqual(1);
        expect(hostMoves()).toBeGreaterThanOrEqual(4);
        const seated = host.seatedAt.find((t) => t > frozenAt)!;
        const firstMove = Math.min(...[...host.acked.values()].filter((a) => a.at > frozenAt).map((a) => a.at));
        process.stdout.write(`frozen owner, for good: its player seated elsewhere after ${seated - frozenAt} ms, its first move there after ${firstMove - frozenAt} ms\n`);
      } finally {
        clearInterval(nudger);
      }
    } finally {
      host.stop();
      guest.stop();
      owner.child.kill('SIGCONT');
      owner.child.kill('SIGKILL');
      await owner.exited;
      await survivor.drain();
      await third.drain();
    }
  });
});
