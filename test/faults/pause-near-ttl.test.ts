/**
 * A room's owner paused (SIGSTOP) for about a lease TTL, just under or just over it, while its
 * rooms play, then woken (SIGCONT) in the middle of whatever it was doing (an append on its way,
 * a renewal due): taken for dead or not, each room must end with one owner, nothing
 * acknowledged lost or applied twice, no view going backwards, and every room playing on.
 */
import { describe, expect, it } from 'vitest';
import { expectNothingLost, logged, longestStall, sleep, untilEveryRoomMoves, whilePlaying } from '../support/fault-cluster.js';

describe('an owner paused for about a lease TTL (1500 ms), then woken', () => {
  for (const pauseMs of [1300, 1700, 2400]) {
    it(`paused ${pauseMs} ms: nothing lost or doubled, every room plays on`, () =>
      whilePlaying(4, async (c, bots) => {
        const victim = c.nodes[0]!;
        const at = Date.now();
        victim.child.kill('SIGSTOP');
        await sleep(pauseMs);
        victim.child.kill('SIGCONT');
        const stuck = await untilEveryRoomMoves(bots, 20_000);
        const end = Date.now();
        const accused = c.nodes.slice(1).flatMap((n) => logged(n, 'peer taken for dead'));
        const stalls = bots.map((b) => longestStall(b, at, end)).sort((a, b) => a - b);
        process.stdout.write(`owner paused ${pauseMs} ms: taken for dead ${accused.length} time(s); players' longest stall ms: ${stalls.join(', ')}; reconnects ${bots.map((b) => b.reconnects).join(',')}\n`);
        expect(stuck).toEqual([]);
        await expectNothingLost(c, bots, at);
      }),
    90_000);
  }
});
