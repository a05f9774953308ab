import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/client.js';
import { cleanup, DATABASE_URL, REDIS_URL, testConfig } from '../support/node.js';
import { freePort } from '../support/throwaway.js';

const config = testConfig();
afterAll(() => cleanup(config));

describe('the documented start command', () => {
  it('npm start drains on SIGTERM (rooms in play) and exits 0, rather than being killed by a wrapper', async () => {
    const port = await freePort();
    // --ignore-scripts skips prestart's web build (other tests serve web/dist meanwhile); the
    // start script itself is what an operator's SIGTERM reaches.
    const npm = spawn('npm', ['start', '--ignore-scripts', '--silent'], {
      env: { ...process.env, PORT: String(port), DATABASE_URL, REDIS_URL, DATABASE_SCHEMA: config.DATABASE_SCHEMA, REDIS_PREFIX: config.REDIS_PREFIX, LOG_LEVEL: 'info', CPU_THINK_MS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (d) => (out += d));
    npm.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && !/node ready/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/node ready/);
    const clients: TestClient[] = [];
    for (let i = 0; i < 5; i++) {
      const host = await TestClient.connect(port);
      await host.ok({ type: 'create_room', name: 'Host' });
      for (let c = 0; c < 3; c++) await host.ok({ type: 'add_cpu' });
      await host.ok({ type: 'start_game' });
      clients.push(host);
    }
    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"msg":"drained"/);
    for (const c of clients) expect(c.frames.some((f) => f.type === 'reconnect')).toBe(true);
  });
});
