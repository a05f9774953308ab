/**
 * The process's last resorts (src/main.ts; issue 9, finding 10): a promise that rejects with
 * nobody waiting on it is logged as a pino line and the node goes on serving; a throw that
 * reaches the event loop is logged as a pino line and ends the process (exit 1). The faults are
 * injected into a real node process by a module loaded before it (node --import).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, processEnv, testConfig } from '../support/node.js';
import { freePort } from '../support/throwaway.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

/** Starts a node process with `code` run (as an ES module) before the server's own; `code` acts on SIGUSR2. */
async function nodeWith(code: string) {
  const config = testConfig();
  configs.push(config);
  const previous = process.env.GOLF_NODE_ARGS;
  process.env.GOLF_NODE_ARGS = `--import=data:text/javascript,${encodeURIComponent(code)}`;
  try {
    return await spawnNode(processEnv(config, await freePort(), { LOG_LEVEL: 'info' }));
  } finally {
    if (previous === undefined) delete process.env.GOLF_NODE_ARGS;
    else process.env.GOLF_NODE_ARGS = previous;
  }
}

const entries = (logs: string[]) =>
  logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as { level: number; msg: string; err?: string; stack?: string }];
    } catch {
      return [];
    }
  });

describe('a node’s last resorts', () => {
  it('an unhandled rejection is logged (pino JSON) and the node keeps serving', async () => {
    const proc = await nodeWith(`process.on('SIGUSR2', () => { Promise.reject(new Error('nobody waited on this')); });`);
    try {
      proc.child.kill('SIGUSR2');
      for (let i = 0; i < 100 && !entries(proc.logs).some((e) => e.msg.startsWith('unhandled rejection')); i++) await new Promise((r) => setTimeout(r, 50));
      const logged = entries(proc.logs).find((e) => e.msg.startsWith('unhandled rejection'));
      expect(logged).toMatchObject({ level: 50, err: 'nobody waited on this' });
      expect(logged?.stack).toContain('Error: nobody waited on this');
      expect(proc.child.exitCode).toBeNull();
      // Still serving: a room is created and played.
      const client = await TestClient.connect(proc.port);
      await client.ok({ type: 'create_room', name: 'After' });
      await client.ok({ type: 'add_cpu' });
      await client.close();
      expect(proc.logs.filter((line) => !line.startsWith('{'))).toEqual([]);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }, 30_000);

  it('an uncaught exception is logged (pino JSON) and ends the process with exit code 1', async () => {
    const proc = await nodeWith(`process.on('SIGUSR2', () => { setTimeout(() => { throw new Error('thrown into the event loop'); }, 0); });`);
    proc.child.kill('SIGUSR2');
    const code = await Promise.race([proc.exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), 15_000))]);
    if (code === 'alive') proc.child.kill('SIGKILL');
    expect(code).toBe(1);
    expect(entries(proc.logs).find((e) => e.msg.startsWith('uncaught exception'))).toMatchObject({ level: 60, err: 'thrown into the event loop' });
  }, 30_000);
});
