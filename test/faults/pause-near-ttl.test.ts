/**
 * A room's owner paused (SIGSTOP) for about a lease TTL, just under or just over it, while its
 * rooms play, then woken (SIGCONT) in the middle of whatever it was doing (an append on its way,
 * a renewal due): taken for dead or not, each room must end with one owner, nothing
 * acknowledged lost or applied twice, no view going backwards, and every room playing on.
 */
import { describe, expect, it } from 'vitest';
import { audit, cluster, logged, longestStall, roomsOn, sleep } from '../support/fault-cluster.js';

describe('an owner paused for about a lease TTL (1500 ms), then woken', () => {
  for (const pauseMs of [1300, 1700, 2400]) {
    it(`paused ${pauseMs} ms: nothing lost or doubled, every room plays on`, async () => {
      const c = await cluster(3);
      const victim = c.nodes[0]!;
      const bots = await roomsOn(c, 4);
      const nudger = setInterval(() => bots.forEach((b) => b.tick()), 500);
      try {
        while (bots.some((b) => b.acked.size < 5)) await sleep(50);
        const at = Date.now();
        victim.child.kill('SIGSTOP');
        await sleep(pauseMs);
        victim.child.kill('SIGCONT');
        const acksAt = new Map(bots.map((b) => [b, b.acked.size]));
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && bots.some((b) => b.acked.size < acksAt.get(b)! + 4 && b.view?.phase !== 'game_over')) await sleep(100);
        await sleep(1500);
        const end = Date.now();
        const accused = c.nodes.slice(1).flatMap((n) => logged(n, 'peer taken for dead'));
        const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
        process.stdout.write(`owner paused ${pauseMs} ms: taken for dead ${accused.length} time(s); players' longest stall ms: ${stalls.join(', ')}; reconnects ${bots.map((b) => b.reconnects).join(',')}\n`);
        for (const b of bots) expect(b.acked.size >= acksAt.get(b)! + 4 || b.view?.phase === 'game_over').toBe(true);
        expect(bots.reduce((n, b) => n + b.backwards, 0)).toBe(0);
        const { acks, lost, doubled, divergent } = await audit(c.config, bots, at);
        expect(acks).toBeGreaterThan(0);
        expect(lost).toBe(0);
        expect(doubled).toBe(0);
        expect(divergent).toBe(0);
      } finally {
        clearInterval(nudger);
        victim.child.kill('SIGCONT');
        for (const b of bots) b.stop();
        for (const n of c.nodes) n.child.kill('SIGKILL');
        await Promise.all(c.nodes.map((n) => n.exited));
        c.admin.disconnect();
      }
    }, 90_000);
  }
});
