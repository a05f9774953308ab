/**
 * golfctl's view of the stores: the same Redis and PostgreSQL as the nodes, opened from the same
 * environment (DATABASE_URL, DATABASE_SCHEMA, REDIS_URL, REDIS_PREFIX) through the nodes' own
 * store classes, plus the few reads only an operator needs (key TTLs, lease keys, scans).
 */
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../config.js';
import { PgEventStore } from '../stores/event-store.js';
import { RedisStateCache } from '../stores/redis-state-cache.js';
import { GONE_MARK, keyNames, type KeyNames } from '../stores/state-cache.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OpsStores {
  config: Config;
  redis: Redis;
  cache: RedisStateCache;
  events: PgEventStore;
  keys: KeyNames;
  /** Live heartbeats: node id -> { written at (ms since epoch, the node's clock), ms left }. */
  heartbeats(): Promise<Map<string, { at: number; ttl_ms: number }>>;
  /** Milliseconds left on a room's lease, or null when nobody holds it. */
  leaseTtl(code: string): Promise<number | null>;
  close(): Promise<void>;
}

export async function openStores(env: NodeJS.ProcessEnv): Promise<OpsStores> {
  const config = loadConfig(env);
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    // A node without them keeps its state in its own memory: there is nothing to look at from outside.
    throw new UsageError('set DATABASE_URL and REDIS_URL (and DATABASE_SCHEMA / REDIS_PREFIX unless the defaults), as for the nodes');
  }
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new UsageError(`cannot reach Redis: ${(error as Error).message}`);
  }
  const cache = new RedisStateCache(redis, { prefix: config.REDIS_PREFIX, ttlSeconds: config.ROOM_TTL_SECONDS });
  const events = new PgEventStore(config.DATABASE_URL, { schema: config.DATABASE_SCHEMA, max: 2 });
  const keys = keyNames(config.REDIS_PREFIX);
  return {
    config,
    redis,
    cache,
    events,
    keys,
    async heartbeats() {
      const found = new Map<string, { at: number; ttl_ms: number }>();
      const prefix = keys.node('');
      // The prefix is validated to [\w:.-]: no glob characters to escape.
      const names: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        names.push(...batch);
      } while (cursor !== '0');
      if (names.length === 0) return found;
      const pipeline = redis.pipeline();
      for (const key of names) pipeline.get(key).pttl(key);
      const results = (await pipeline.exec()) ?? [];
      names.forEach((key, i) => {
        const at = results[2 * i]?.[1] as string | null;
        const ttl = results[2 * i + 1]?.[1] as number;
        // A drained node leaves a "gone" mark where its heartbeat was (see forgetNode): not a heartbeat.
        if (at !== null && at !== GONE_MARK && ttl !== -2) found.set(key.slice(prefix.length), { at: Number(at), ttl_ms: ttl });
      });
      return found;
    },
    async leaseTtl(code) {
      const ttl = await redis.pttl(keys.lease(code));
      return ttl >= 0 ? ttl : null;
    },
    async close() {
      redis.disconnect();
      await events.close();
    },
  };
}
