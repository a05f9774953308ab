/**
 * The stores of a test run (vitest globalSetup: once, before any test file).
 *
 * DATABASE_URL and REDIS_URL, when set, are used as they are. Otherwise the servers of the
 * development machine, on 127.0.0.1:5432 and 127.0.0.1:6379, when something listens there.
 * Otherwise (a fresh machine) the embedded PostgreSQL this package ships, and a throwaway
 * `redis-server` when one is installed, started once for the run and removed after it.
 * GOLF_TEST_FORCE_EMBEDDED=1 takes both fallbacks even when the local servers run.
 *
 * The URLs are exported in process.env, which the test workers inherit (test/support/node.ts
 * and every node process the tests spawn read DATABASE_URL and REDIS_URL from there).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/stores/embedded-postgres.js';
import { freePort, ThrowawayRedis } from './throwaway.js';

/** Whether anything accepts TCP connections on 127.0.0.1:port (within a second). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export default async function setup(): Promise<() => Promise<void>> {
  const force = process.env.GOLF_TEST_FORCE_EMBEDDED === '1';
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', { test_stores: true });
  const stops: Array<() => Promise<void> | void> = [];
  const say = (line: string) => process.stderr.write(`[test stores] ${line}\n`);
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };

  if (!process.env.DATABASE_URL && (force || !(await listening(5432)))) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'golf-test-pg-'));
    // As root, PostgreSQL runs as user "postgres", which must be able to reach the directory.
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    say(`no PostgreSQL on 127.0.0.1:5432: starting the embedded one on port ${port} for this run`);
    let database: EmbeddedDatabase;
    try {
      database = await startEmbeddedPostgres(dataDir, port, log);
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`the embedded PostgreSQL did not start (set DATABASE_URL to use another): ${(error as Error).message}`);
    }
    process.env.DATABASE_URL = database.url;
    stops.push(async () => {
      await database.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
  }

  if (!process.env.REDIS_URL && (force || !(await listening(6379)))) {
    let redis: ThrowawayRedis;
    try {
      // Asked first: spawning a missing program would end the run with an unhandled error event.
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      redis = await ThrowawayRedis.start();
    } catch (error) {
      await stopAll();
      throw new Error(
        `no Redis on 127.0.0.1:6379 and none could be started (${(error as Error).message}): ` +
          'install redis-server (apt-get install redis-server) or set REDIS_URL',
      );
    }
    say(`no Redis on 127.0.0.1:6379: started a throwaway redis-server on port ${redis.port} for this run`);
    process.env.REDIS_URL = redis.url;
    stops.push(() => redis.stop());
  }

  return stopAll;
}
