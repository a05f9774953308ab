/**
 * The stores every test file of this run gets: PostgreSQL and Redis answer at the URLs of
 * test/support/node.ts (DATABASE_URL and REDIS_URL as given or as test/support/global-setup.ts
 * exported them, else the local servers).
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { DATABASE_URL, REDIS_URL } from '../support/node.js';

describe('the stores of this test run', () => {
  it('PostgreSQL and Redis answer at the URLs the test files use', async () => {
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
      expect(row!.version).toMatch(/^\d+/);
    } finally {
      await sql.end();
    }
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
    // For the run that checks the fallbacks (test/deploy/fresh-machine.test.ts).
    process.stdout.write(`test stores: ${JSON.stringify({ database: new URL(DATABASE_URL).port, redis: new URL(REDIS_URL).port })}\n`);
  });
});
