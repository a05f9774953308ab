import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { LocalBus, nodeConnectionName, RedisBus, type Bus } from './bus.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { PgEventStore } from './event-store.js';
import { MemoryLeases, RedisLeases, type Leases } from './leases.js';
import { QuorumLeases } from './quorum-leases.js';
import { MemoryStateCache } from './memory-state-cache.js';
import { RedisStateCache } from './redis-state-cache.js';
import type { StateCache } from './state-cache.js';

export interface OpenBackends {
  events: PgEventStore;
  cache: StateCache;
  leases: Leases;
  bus: Bus;
  /** 'cluster' with Redis; 'single' with in-process coordination. */
  mode: 'cluster' | 'single';
  database: 'external' | 'embedded';
  close(): Promise<void>;
}

export class BackendUnavailable extends Error {
  override name = 'BackendUnavailable';
}

/** Where a store is, without anything secret: no user, password or query (`?password=` works for Redis). */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * After Redis comes back, a node must write its heartbeat again well within a lease TTL, or
 * peers that reconnected sooner take it for dead (see runtime/liveness.ts): reconnection
 * attempts are at most this far apart (ioredis' default backs off to 2 s); short, so that rooms
 * are playable again soon after Redis answers (README: failover).
 */
const RECONNECT_MAX_MS = 200;
const retryStrategy = (times: number) => Math.min(times * 50, RECONNECT_MAX_MS);

/**
 * Redis connections: one for commands (auto-pipelined), one for leases (fails fast); with
 * `name`, both carry it (and so does the bus's subscriber, a duplicate of the first).
 */
export function redisClients(url: string, name?: string): { commands: Redis; leases: Redis } {
  const named = name ? { connectionName: name } : {};
  const commands = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 3, connectTimeout: 5000, lazyConnect: true, retryStrategy, ...named });
  const leases = new Redis(url, { enableOfflineQueue: false, commandTimeout: 1000, maxRetriesPerRequest: 0, connectTimeout: 5000, lazyConnect: true, retryStrategy, ...named });
  return { commands, leases };
}

/**
 * Opens the backends the configuration asks for: PostgreSQL (or the embedded one) and Redis
 * (or in-process coordination), with a clear error when one cannot be reached.
 */
export async function openBackends(config: Config, log: Logger): Promise<OpenBackends> {
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.DATA_DIR, config.EMBEDDED_PG_PORT, log);
    databaseUrl = embedded.url;
  }
  const events = new PgEventStore(databaseUrl, { schema: config.DATABASE_SCHEMA, queryTimeoutMs: config.PG_QUERY_TIMEOUT_MS });
  try {
    await events.migrate();
  } catch (error) {
    await events.close().catch(() => undefined);
    await embedded?.stop();
    throw new BackendUnavailable(`cannot use PostgreSQL at ${redacted(databaseUrl)}: ${(error as Error).message}`);
  }
  if (!config.REDIS_URL) {
    log.info({ database: embedded ? 'embedded' : 'external' }, 'running alone: in-process coordination (no REDIS_URL)');
    return {
      events,
      cache: new MemoryStateCache(config.ROOM_TTL_SECONDS),
      leases: new MemoryLeases(),
      bus: new LocalBus(),
      mode: 'single',
      database: embedded ? 'embedded' : 'external',
      close: async () => {
        await events.close();
        await embedded?.stop();
      },
    };
  }
  // Named for this node: a peer that finds its subscription gone and no connection of it left
  // takes it for dead at once (see failure-detector.ts).
  const redis = redisClients(config.REDIS_URL, nodeConnectionName(config.REDIS_PREFIX, config.NODE_ID));
  // Errors surface through commands; without a listener ioredis would also print them.
  redis.commands.on('error', (error) => log.warn({ err: error.message }, 'redis'));
  redis.leases.on('error', () => {});
  try {
    await Promise.all([redis.commands.connect(), redis.leases.connect()]);
    await redis.commands.ping();
  } catch (error) {
    redis.commands.disconnect();
    redis.leases.disconnect();
    await events.close().catch(() => undefined);
    await embedded?.stop();
    throw new BackendUnavailable(`cannot reach Redis at ${redacted(config.REDIS_URL)}: ${(error as Error).message}`);
  }
  // With REDIS_LOCK_URLS, leases are held on a majority of those masters (Redlock's quorum);
  // the cache, the bus and heartbeats stay on REDIS_URL.
  const lockMasters = (config.REDIS_LOCK_URLS ?? []).map((lockUrl) => redisClients(lockUrl).leases);
  for (const master of lockMasters) master.on('error', () => {});
  // A master down at startup is one vote fewer, not a reason to refuse to start: a majority is
  // what counts, and the lease store finds out at each call (ioredis keeps reconnecting).
  const reachable = await Promise.all(lockMasters.map((master) => master.connect().then(() => true, () => false)));
  if (lockMasters.length > 0 && reachable.filter(Boolean).length < Math.floor(lockMasters.length / 2) + 1) {
    for (const master of lockMasters) master.disconnect();
    redis.commands.disconnect();
    redis.leases.disconnect();
    await events.close().catch(() => undefined);
    await embedded?.stop();
    const urls = config.REDIS_LOCK_URLS!.map(redacted).join(', ');
    throw new BackendUnavailable(`cannot reach a majority of REDIS_LOCK_URLS (${urls}): ${reachable.filter(Boolean).length} of ${lockMasters.length} answer`);
  }
  const cache = new RedisStateCache(redis.commands, { prefix: config.REDIS_PREFIX, ttlSeconds: config.ROOM_TTL_SECONDS });
  const bus = await RedisBus.open(redis.commands, config.REDIS_PREFIX, config.NODE_ID);
  const leaseOptions = { prefix: config.REDIS_PREFIX, ttlMs: config.LEASE_TTL_MS, nodeId: config.NODE_ID };
  const leases = lockMasters.length > 0 ? new QuorumLeases(lockMasters, leaseOptions) : new RedisLeases(redis.leases, leaseOptions);
  return {
    events,
    cache,
    leases,
    bus,
    mode: 'cluster',
    database: embedded ? 'embedded' : 'external',
    close: async () => {
      await leases.close();
      await bus.close();
      await events.close();
      await cache.close();
      await redis.leases.quit().catch(() => redis.leases.disconnect());
      await Promise.all(lockMasters.map((master) => master.quit().catch(() => master.disconnect())));
      await embedded?.stop();
    },
  };
}
