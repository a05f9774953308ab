import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/** `https://a.example,http://localhost:5173` as exact origins (scheme, host, port). */
const origins = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part !== ''))
  .refine(
    (list) => list.length > 0 && list.every((origin) => originOf(origin) !== null),
    'must be a comma-separated list of origins like https://golf.example (scheme, host and port only)',
  )
  .transform((list) => list.map((origin) => originOf(origin)!));

/** `redis://a:6379,redis://b:6379,redis://c:6379`: the independent masters of a Redlock quorum. */
const lockUrls = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part !== ''))
  .refine(
    (list) =>
      list.every((item) => {
        try {
          return ['redis:', 'rediss:'].includes(new URL(item).protocol);
        } catch {
          return false;
        }
      }),
    'must be a comma-separated list of redis:// or rediss:// URLs',
  )
  .refine((list) => list.length === 3 || list.length === 5, 'must name 3 or 5 independent Redis masters')
  .refine((list) => new Set(list).size === list.length, 'must name each master once');

function originOf(text: string): string | null {
  try {
    const url = new URL(text);
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    return bare && (url.protocol === 'http:' || url.protocol === 'https:') ? url.origin : null;
  } catch {
    return null;
  }
}

/** Append transactions in flight at once by default (see scripts/bench-append.ts, README). */
const COMMIT_SLOTS_DEFAULT = 4;

/** Every environment variable the server reads, with its default. */
export const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  REDIS_LOCK_URLS: lockUrls.optional(),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]*$/, 'letters, digits, _ - . : only').default('golf:'),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier').default('public'),
  CPU_THINK_MS: int(0, 60_000).default(1200),
  ROUND_PAUSE_MS: int(0, 600_000).default(6000),
  DISCONNECT_GRACE_MS: int(0, 3_600_000).default(30_000),
  ROOM_TTL_SECONDS: int(1, 30 * 86_400).default(4 * 3600),
  LEASE_TTL_MS: int(500, 120_000).default(1500),
  FAILURE_POLL_MS: int(0, 10_000).default(100),
  SNAPSHOT_FLUSH_MS: int(0, 10_000).default(0),
  PASSIVATE_AFTER_MS: int(1000, 86_400_000).default(10 * 60_000),
  DRAIN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  PG_QUERY_TIMEOUT_MS: int(100, 600_000).default(3000),
  PG_COMMIT_SLOTS: int(1, 8).default(COMMIT_SLOTS_DEFAULT),
  ROOM_MAILBOX_MAX: int(1, 100_000).default(64),
  WS_PING_MS: int(100, 600_000).default(10_000),
  /** WebSocket permessage-deflate for clients that offer it (README "Cost per move": fewer bytes, more CPU and memory). */
  WS_DEFLATE: z.enum(['off', 'on']).default('off'),
  RATE_LIMIT_PER_SECOND: int(1, 100_000).default(20),
  RATE_LIMIT_BURST: int(1, 100_000).default(40),
  SEAT_RATE_PER_SECOND: int(1, 100_000).default(10),
  SEAT_RATE_BURST: int(1, 100_000).default(20),
  SPECTATORS_PER_ROOM: int(0, 100_000).default(500),
  MAX_CONNECTIONS: int(1, 1_000_000).default(10_000),
  MAX_CONNECTIONS_PER_IP: int(1, 1_000_000).default(64),
  TRUST_PROXY: int(0, 10).default(0),
  SEAT_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  ROOM_RATE_PER_MINUTE: int(1, 1_000_000).default(60),
  ROOM_RATE_BURST: int(1, 1_000_000).default(20),
  GUESS_LIMIT: int(1, 1_000_000).default(10),
  GUESS_WINDOW_MS: int(1000, 86_400_000).default(60_000),
  REPLAY_MAX_EVENTS: int(1, 10_000_000).default(20_000),
  REPLAY_CONCURRENCY: int(1, 1000).default(4),
  ALLOWED_ORIGINS: origins.optional(),
  METRICS_PORT: int(0, 65535).default(9464),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  NODE_ID: z.string().min(1).max(64).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: pretty when stdout is a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  NODE_ID: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * How long a node may take to stop after SIGTERM before it exits anyway (main.ts): the drain's
 * own bound twice over, plus the pools' closing. An orchestrator's grace period (compose's
 * stop_grace_period, Kubernetes' terminationGracePeriodSeconds) must be longer, or it kills
 * a node that is still handing its rooms over.
 */
export function stopDeadlineMs(config: Pick<Env, 'DRAIN_TIMEOUT_MS'>): number {
  return config.DRAIN_TIMEOUT_MS * 2 + 5000;
}

/** Reads and validates the environment, with one clear line per mistake. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    // The value is never echoed: DATABASE_URL, REDIS_URL and METRICS_TOKEN carry secrets, and
    // startup errors end up in logs that more people read than the environment.
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  if (parsed.data.REDIS_LOCK_URLS && !parsed.data.REDIS_URL) {
    throw new ConfigError('invalid environment:\n  REDIS_LOCK_URLS: needs REDIS_URL too (the cache, the bus and heartbeats stay on it)');
  }
  return { ...parsed.data, NODE_ID: parsed.data.NODE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}` };
}
