/**
 * An owner frozen (SIGSTOP) past its lease loses its room to a peer; when it wakes (SIGCONT) it
 * must not act for the room any more (its lease expired by its own clock), and whatever it
 * still sends must not reach players: nobody's view may go back in time.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../../scripts/lib/node-process.js';
import type { RoomListener } from '../../src/runtime/room-actor.js';
import { TestClient } from '../support/client.js';
import { cleanup, processEnv, REDIS_URL, startTestNode, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';
import type { Config } from '../../src/config.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

const timing = { CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '500' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The seqs of the views a client got, in order. */
const seqs = (client: TestClient) => client.frames.filter((f) => f.type === 'state' || f.type === 'welcome').map((f) => f.seq as number);
const backwards = (xs: number[]) => xs.flatMap((x, i) => (i > 0 && x < xs[i - 1]! ? [`${xs[i - 1]} then ${x}`] : []));

describe('an owner woken after losing its room', () => {
  it('sends no stale views, and none reach players through the nodes that watch the room', async () => {
    const base = testConfig({ LEASE_TTL_MS: '1500', ...timing });
    configs.push(base);
    const nodeA = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const nodeB = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    const owner = await spawnNode(processEnv(base, await freePort(), { ...timing, NODE_ID: `${base.REDIS_PREFIX}owner` }));
    try {
      const host = await TestClient.connect(owner.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const pa = await TestClient.connect(nodeA.port);
      await pa.ok({ type: 'join_room', room: host.room, name: 'OnA' });
      const leaver = await TestClient.connect(nodeA.port);
      await leaver.ok({ type: 'join_room', room: host.room, name: 'Leaver' });
      const pb = await TestClient.connect(nodeB.port);
      await pb.ok({ type: 'join_room', room: host.room, name: 'OnB' });
      await host.ok({ type: 'start_game' });
      await Promise.all([playUntil(host, () => host.seq >= 8), playUntil(pa, () => pa.seq >= 8, 1), playUntil(pb, () => pb.seq >= 8, 2), playUntil(leaver, () => leaver.seq >= 8, 3)]);

      owner.child.kill('SIGSTOP');
      // A player on A closes their tab while the owner is frozen (its heartbeat not lapsed yet):
      // A asks the owner to detach them, a request the owner reads first thing when it wakes,
      // and that changes the room's presence (a view pushed without an append).
      leaver.terminate();
      const frozenSeq = Math.max(pa.seq, pb.seq);
      const adopter = async () => {
        for (let i = 0; i < 600; i++) {
          const found = [nodeA, nodeB].find((n) => n.runtime.hosted().some((a) => a.code === host.room));
          if (found) return found;
          await sleep(25);
        }
        throw new Error('nobody adopted the room');
      };
      const newOwner = await adopter();
      // The game goes well past where the frozen owner left it (the host's turns: the stand-in's).
      await Promise.all([playUntil(pa, () => pa.seq >= frozenSeq + 8, 1), playUntil(pb, () => pb.seq >= frozenSeq + 8, 2)]);
      owner.child.kill('SIGCONT');
      await sleep(2500);
      const actor = newOwner.runtime.hosted().find((a) => a.code === host.room)!;
      await pa.waitForState(() => pa.seq >= actor.seq);
      await pb.waitForState(() => pb.seq >= actor.seq);
      const stale = { onA: backwards(seqs(pa)), onB: backwards(seqs(pb)) };
      process.stdout.write(`woken owner (frozen at seq ${frozenSeq}, room at ${actor.seq} on ${newOwner === nodeA ? 'A' : 'B'}): views going back: ${JSON.stringify(stale)}\n`);
      expect(stale).toEqual({ onA: [], onB: [] });
      // The host's socket stayed open through the freeze: it follows the room and plays on.
      await Promise.all([playUntil(host, () => false), playUntil(pa, () => false, 1), playUntil(pb, () => false, 2)]).catch((e) => {
        const now = newOwner.runtime.hosted().find((a) => a.code === host.room);
        process.stdout.write(`STUCK owner seq=${now?.seq} connected=${JSON.stringify(now?.context.connected)} cur=${now?.game.current_player_id} pa=${pa.playerId} ${JSON.stringify(seqs(pa).slice(-5))} pb=${pb.playerId} ${JSON.stringify(seqs(pb).slice(-5))} deadline=${JSON.stringify(now?.context.deadline)}\n`);
        throw e;
      });
      expect(pa.view.phase).toBe('game_over');
      expect(backwards(seqs(pa))).toEqual([]);
      expect(backwards(seqs(pb))).toEqual([]);
    } finally {
      owner.child.kill('SIGCONT');
      owner.child.kill('SIGKILL');
      await owner.exited;
      await nodeA.drain();
      await nodeB.drain();
    }
  });
});

describe('a late frame from the room\'s previous owner', () => {
  it('is not delivered: the watching node drops it (an older epoch, a watch it no longer has)', async () => {
    const base = testConfig({ LEASE_TTL_MS: '1500', ...timing });
    configs.push(base);
    const [old, n1, n2] = [await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}old` }), await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}n1` }), await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}n2` })];
    // Everything sent to the nodes' inboxes, as the bus carried it.
    const tap = new Redis(REDIS_URL);
    const sent: Array<{ channel: string; text: string }> = [];
    tap.on('pmessage', (_p, channel: string, text: string) => sent.push({ channel, text }));
    await tap.psubscribe(`${base.REDIS_PREFIX}bus:node:*`);
    try {
      const host = await TestClient.connect(old.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      const p1 = await TestClient.connect(n1.port);
      await p1.ok({ type: 'join_room', room: host.room, name: 'On1' });
      const p2 = await TestClient.connect(n2.port);
      await p2.ok({ type: 'join_room', room: host.room, name: 'On2' });
      await host.ok({ type: 'start_game' });
      await Promise.all([playUntil(host, () => host.seq >= 8), playUntil(p1, () => p1.seq >= 8, 1), playUntil(p2, () => p2.seq >= 8, 2)]);
      // The room moves: its owner drains, a peer adopts it; the game goes on there.
      await old.drain();
      const hosts = (n: typeof n1) => n.runtime.hosted().some((a) => a.code === host.room);
      for (let i = 0; i < 400 && !hosts(n1) && !hosts(n2); i++) await sleep(25);
      const [adopter, other, watcher] = hosts(n1) ? [n1, n2, p2] : [n2, n1, p1];
      expect(adopter.runtime.hosted().map((a) => a.code)).toEqual([host.room]);
      await Promise.all([playUntil(p1, () => p1.seq >= 14, 1), playUntil(p2, () => p2.seq >= 14, 2)]);
      // The last frame the old owner sent the other node, delivered again now (late, as a
      // stalled connection or a woken owner would).
      const inbox = `${base.REDIS_PREFIX}bus:node:${other.config.NODE_ID}`;
      const late = sent.filter((m) => m.channel === inbox && JSON.parse(m.text).kind === 'state' && JSON.parse(m.text).seq <= 8).at(-1)!;
      expect(late).toBeDefined();
      const before = watcher.frames.length;
      const at = watcher.seq;
      const publisher = new Redis(REDIS_URL);
      await publisher.publish(inbox, late.text);
      publisher.disconnect();
      await sleep(300);
      const got = watcher.frames.slice(before).filter((f) => f.type === 'state').map((f) => f.seq as number);
      process.stdout.write(`late frame of seq ${JSON.parse(late.text).seq} replayed to the watching node at seq ${at}: delivered ${JSON.stringify(got)}\n`);
      expect(backwards(seqs(watcher))).toEqual([]);
    } finally {
      tap.disconnect();
      await n1.drain();
      await n2.drain();
    }
  });
});

describe('a room whose lease expired by its node\'s own clock', () => {
  it('does nothing more (no job, no view) after a stall longer than the lease', async () => {
    const base = testConfig({ LEASE_TTL_MS: '600', ...timing });
    configs.push(base);
    const node = await startTestNode(base);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      const guest = await node.runtime.joinRoom(host.room, 'Guest');
      if (!guest.ok) throw new Error(guest.message);
      const heard: string[] = [];
      const watcher = (playerId: string): RoomListener => ({ playerId, state: (seq) => void heard.push(`${playerId === guest.player_id ? 'guest' : 'host'} state ${seq}`), evicted: (why) => void heard.push(`evicted: ${why}`), unseated: () => {} });
      const hostWatch = watcher(host.playerId);
      const guestWatch = watcher(guest.player_id);
      expect(await node.runtime.watch(host.room, hostWatch)).toBe('watching');
      expect(await node.runtime.watch(host.room, guestWatch)).toBe('watching');
      await host.waitForState((v) => v.players.every((p: { connected: boolean }) => p.connected));
      await sleep(50);
      const actor = node.runtime.hosted()[0]!;
      heard.length = 0;
      // The whole node stalls (a long pause of its event loop) past its lease, then, before any
      // timer of its runs, the guest's socket closes: a change of presence in the room.
      const until = Date.now() + 1200;
      while (Date.now() < until) {
        // stalled
      }
      node.runtime.unwatch(host.room, guestWatch);
      const synchronously = [...heard];
      await sleep(100);
      process.stdout.write(`after a stall past the lease: ${JSON.stringify(synchronously)} at once, ${JSON.stringify(heard)} after 100 ms; actor stopped: ${actor.stopped}\n`);
      expect(heard.filter((h) => h.includes('state'))).toEqual([]);
      expect(actor.stopped).toBe(true);
    } finally {
      await node.drain();
    }
  });
});
