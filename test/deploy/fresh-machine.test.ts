/**
 * `npm test` on a machine with no PostgreSQL and no Redis running: the run starts the embedded
 * PostgreSQL and a throwaway redis-server itself (test/support/global-setup.ts), the test files
 * and the node processes they spawn use them, and both are gone after the run.
 * GOLF_TEST_FORCE_EMBEDDED=1 stands in for "nothing listens", since this machine's servers run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/node-process.js';
import { listening } from '../support/global-setup.js';

describe('the test command on a fresh machine', () => {
  it('starts the embedded PostgreSQL and a throwaway Redis for the run, exports them, and removes them after', async () => {
    const env: Record<string, string | undefined> = { ...process.env, GOLF_TEST_FORCE_EMBEDDED: '1' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    // The probe prints the ports it reached; start-command spawns `npm start`, a node process
    // that must get the same URLs through the environment. The default reporter only: the JSON
    // report of the outer run is not overwritten.
    const run = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', 'test/stores/run-stores.test.ts', 'test/integration/start-command.test.ts'],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => run.on('exit', (c) => resolve(c)));
    out = stripVTControlCharacters(out);
    expect(code, out.slice(-3000)).toBe(0);
    expect(out).toMatch(/no PostgreSQL on 127\.0\.0\.1:5432: starting the embedded one/);
    expect(out).toMatch(/no Redis on 127\.0\.0\.1:6379: started a throwaway redis-server/);
    expect(out).toMatch(/Test Files\s+2 passed \(2\)/);
    const ports = JSON.parse(/test stores: (\{.*\})/.exec(out)![1]!) as { database: string; redis: string };
    expect(Number(ports.database)).not.toBe(5432);
    expect(Number(ports.redis)).not.toBe(6379);
    // Both were stopped when the run ended.
    expect(await listening(Number(ports.database))).toBe(false);
    expect(await listening(Number(ports.redis))).toBe(false);
  }, 240_000);
});
