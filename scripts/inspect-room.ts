/**
 * Shows everything the stores hold about a room: the Redis room hash and snapshot, whether
 * its node is alive, its PostgreSQL row, and its last events (hidden cards included: this is
 * an operator's tool, never a player's).
 *
 *   DATABASE_URL=… REDIS_URL=… npx tsx scripts/inspect-room.ts ABCD [--events 10]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { PgEventStore } from '../src/stores/event-store.js';
import { RedisStateCache } from '../src/stores/redis-state-cache.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { events: { type: 'string', default: '10' } } });
const code = positionals[0]?.toUpperCase();
if (!code || !/^[A-Z]{4}$/.test(code)) {
  process.stderr.write('usage: inspect-room.ts CODE [--events N]\n');
  process.exit(2);
}
const config = loadConfig();
if (!config.DATABASE_URL || !config.REDIS_URL) {
  process.stderr.write('set DATABASE_URL and REDIS_URL (and REDIS_PREFIX / DATABASE_SCHEMA if not the defaults)\n');
  process.exit(2);
}
const redis = new Redis(config.REDIS_URL);
const cache = new RedisStateCache(redis, { prefix: config.REDIS_PREFIX, ttlSeconds: config.ROOM_TTL_SECONDS });
const events = new PgEventStore(config.DATABASE_URL, { schema: config.DATABASE_SCHEMA, max: 1 });
try {
  const meta = await cache.getRoom(code);
  const game = meta ? await events.getGame(meta.game_id) : await events.findLatestByRoom(code);
  const snapshot = game ? await cache.loadSnapshot(game.game_id) : null;
  const owner = meta?.server_id || game?.server_id || null;
  const alive = owner ? (await cache.liveNodes([owner])).has(owner) : false;
  const recent = game ? (await events.loadEvents(game.game_id, Math.max(0, game.last_seq - Number(values.events)))) : [];
  const out = {
    room: code,
    redis: meta ? { ...meta, ttl_seconds: await redis.ttl(`${config.REDIS_PREFIX}room:${code}`) } : null,
    owner: owner ? { node: owner, alive } : null,
    postgres: game,
    snapshot: snapshot ? { seq: snapshot.seq, epoch: snapshot.epoch, behind_events_by: game ? game.last_seq - snapshot.seq : null } : null,
    last_events: recent.map((e) => ({ seq: e.seq, type: e.type, player_id: e.player_id, command_id: e.command_id, at: e.created_at, data: e.data })),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  redis.disconnect();
  await events.close();
}
