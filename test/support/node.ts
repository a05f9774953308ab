import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNode, type RunningNode } from '../../src/node.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique schema name / key prefix, so that test files can run in parallel. */
export function uniqueName(tag: string): string {
  return `t_${tag}_${randomBytes(4).toString('hex')}`;
}

/**
 * Every test client comes from 127.0.0.1: the per-address caps and rates are lifted (the tests
 * of those limits set them back), and each node's metrics listener takes a free port.
 */
export const TEST_ADDRESS_LIMITS: Record<string, string> = {
  MAX_CONNECTIONS_PER_IP: '100000',
  ROOM_RATE_PER_MINUTE: '1000000',
  ROOM_RATE_BURST: '100000',
  GUESS_LIMIT: '100000',
  METRICS_PORT: '0',
};

export function testConfig(overrides: Record<string, string> = {}): Config {
  const name = uniqueName('node');
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL,
    DATABASE_SCHEMA: name,
    REDIS_URL,
    REDIS_PREFIX: `${name}:`,
    CPU_THINK_MS: '5',
    ROUND_PAUSE_MS: '20',
    DISCONNECT_GRACE_MS: '60000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WS_PING_MS: '5000',
    // Test bots play far faster than people; the flood test sets the defaults back.
    RATE_LIMIT_PER_SECOND: '2000',
    RATE_LIMIT_BURST: '2000',
    SEAT_RATE_PER_SECOND: '2000',
    SEAT_RATE_BURST: '2000',
    ...TEST_ADDRESS_LIMITS,
    ...overrides,
  });
}

/**
 * The environment of a node process on the test stores of `config` (schema and key prefix),
 * listening on `port`; `overrides` win.
 */
export function processEnv(config: Config, port: number, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL,
    DATABASE_SCHEMA: config.DATABASE_SCHEMA,
    REDIS_PREFIX: config.REDIS_PREFIX,
    LEASE_TTL_MS: '1500',
    RATE_LIMIT_PER_SECOND: '2000',
    RATE_LIMIT_BURST: '2000',
    SEAT_RATE_PER_SECOND: '2000',
    SEAT_RATE_BURST: '2000',
    ...TEST_ADDRESS_LIMITS,
    LOG_LEVEL: 'warn',
    ...overrides,
  };
}

export async function startTestNode(config: Config = testConfig()): Promise<RunningNode & { config: Config }> {
  const node = await startNode(config, createLogger(config.LOG_LEVEL, {}, config.LOG_FORMAT));
  return Object.assign(node, { config });
}

/** Drops a test schema and its Redis keys. */
export async function cleanup(config: Config): Promise<void> {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop schema if exists "${config.DATABASE_SCHEMA}" cascade`).catch(() => undefined);
  await sql.end();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${config.REDIS_PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
