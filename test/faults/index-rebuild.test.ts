/**
 * Redis restarting in the middle of a room index rebuild (found while testing issue 9's Redis
 * restarts): the rooms put back went with the old Redis, but the "index is whole" marker was
 * written into the new, empty one, and every lookup believed its miss: a player's resume was
 * told their token was not valid (the room gone). Real Redis and PostgreSQL, an in-process
 * node; the restart is Redis losing every key of the node's prefix right after the restore.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TestClient } from '../support/client.js';
import { cleanup, REDIS_URL, startTestNode, testConfig } from '../support/node.js';

const redis = new Redis(REDIS_URL);
let config: ReturnType<typeof testConfig>;
afterAll(async () => {
  redis.disconnect();
  await cleanup(config);
});

async function loseEverything(prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
}

describe('the room index across a Redis restart', () => {
  it('a rebuild that Redis lost halfway is not taken as whole: no player is told their room is gone', async () => {
    config = testConfig({ PASSIVATE_AFTER_MS: '1000' });
    const node = await startTestNode(config);
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      await host.ok({ type: 'add_cpu' });
      await host.close();
      await new Promise((r) => setTimeout(r, 1100));
      expect(await node.runtime.passivateIdle()).toBe(1);
      // Redis loses everything; then, once, again right after the index's rooms are put back.
      const cache = node.backends.cache as unknown as { restoreRooms: (...args: unknown[]) => Promise<number> };
      const restore = cache.restoreRooms.bind(node.backends.cache);
      let lostAgain = false;
      cache.restoreRooms = async (...args: unknown[]) => {
        const created = await restore(...args);
        if (!lostAgain) {
          lostAgain = true;
          await loseEverything(config.REDIS_PREFIX);
        }
        return created;
      };
      await loseEverything(config.REDIS_PREFIX);
      const replies: string[] = [];
      for (let i = 0; i < 20; i++) {
        const back = await TestClient.connect(node.port);
        const reply = await back.request({ type: 'resume', token: host.token });
        replies.push(reply.type === 'ack' ? 'ack' : reply.code);
        back.terminate();
        if (reply.type === 'ack') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      process.stdout.write(`resumes across a rebuild Redis lost halfway: ${replies.join(', ')}\n`);
      expect(lostAgain).toBe(true);
      expect(replies).not.toContain('unauthorized');
      expect(replies.at(-1)).toBe('ack');
    } finally {
      await node.drain();
    }
  }, 30_000);

  it('a lookup that misses while another node rebuilds the index does not believe the marker written after its miss', async () => {
    const node = await startTestNode({ ...config, PASSIVATE_AFTER_MS: 1000 });
    try {
      const host = await TestClient.connect(node.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      await host.ok({ type: 'add_cpu' });
      await host.close();
      await new Promise((r) => setTimeout(r, 1100));
      // This room, and any room of the test before that this node restored at its start.
      expect(await node.runtime.passivateIdle()).toBeGreaterThanOrEqual(1);
      await loseEverything(config.REDIS_PREFIX);
      // Right after this node's lookup misses the room (Redis empty), another node's rebuild
      // puts every room back and marks the index whole.
      const cache = node.backends.cache as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      let rebuiltMeanwhile = false;
      for (const method of ['getRoom', 'lookupRoom']) {
        const real = cache[method]?.bind(node.backends.cache);
        if (!real) continue;
        cache[method] = async (...args: unknown[]) => {
          const found = await real(...args);
          if (!rebuiltMeanwhile && args[0] === host.room) {
            rebuiltMeanwhile = true;
            await node.runtime.rebuildIndex();
          }
          return found;
        };
      }
      const back = await TestClient.connect(node.port);
      const reply = await back.request({ type: 'resume', token: host.token });
      const again = reply.type === 'ack' ? reply : await back.request({ type: 'resume', token: host.token });
      process.stdout.write(`resume racing another node's rebuild: ${reply.type === 'ack' ? 'ack' : reply.code}, then ${again.type === 'ack' ? 'ack' : again.code}\n`);
      expect(rebuiltMeanwhile).toBe(true);
      expect(reply.type === 'ack' ? 'ack' : reply.code).not.toBe('unauthorized');
      expect(again.type).toBe('ack');
      back.terminate();
    } finally {
      await node.drain();
    }
  }, 30_000);
});
