/**
 * The embedded default: no REDIS_URL and no DATABASE_URL. The node runs alone, its events go
 * to a real PostgreSQL under DATA_DIR, and its games survive a SIGKILL of the process.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { TestClient } from '../support/client.js';
import { freePort } from '../support/throwaway.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'golf-embedded-'));
// As root, PostgreSQL runs as user "postgres", which must be able to reach the data directory.
chmodSync(dataDir, 0o755);
let node: NodeProcess | null = null;
afterAll(async () => {
  if (node && node.child.exitCode === null) {
    node.child.kill('SIGTERM');
    await node.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded default (no Redis, no external PostgreSQL)', () => {
  it('serves games that survive a SIGKILL of the process, then drains cleanly on SIGTERM', async () => {
    const pgPort = String(await freePort());
    const env = async () => ({
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: pgPort,
      DATABASE_URL: '',
      REDIS_URL: '',
      CPU_THINK_MS: '5',
      ROUND_PAUSE_MS: '600000',
      LOG_LEVEL: 'info',
      METRICS_PORT: '0',
      SEAT_RATE_PER_SECOND: '1000',
      SEAT_RATE_BURST: '1000',
    });
    node = await spawnNode(await env(), 120_000);
    // /readyz answers 200 as the node logs that it is ready: the line may still be on its way
    // through the pipe when spawnNode returns (a loaded machine).
    const readyLine = () => node!.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'node ready');
    await expect.poll(readyLine, { timeout: 5000 }).toMatchObject({ mode: 'single', database: 'embedded' });
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Solo', options: { initial_flips: 0, rounds: 1 } });
    await host.ok({ type: 'add_cpu', profile: 'River' });
    await host.ok({ type: 'start_game' });
    await host.ok({ type: 'draw', source: 'deck' });
    await host.waitForState((v) => v.must === 'place');
    const before = { seq: host.seq, view: host.view };

    node.child.kill('SIGKILL');
    await node.exited;
    host.terminate();

    node = await spawnNode(await env(), 120_000);
    const summary = () => node!.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'recovery finished');
    await expect.poll(summary, { timeout: 5000 }).toMatchObject({ recovered: 1, failed: 0 });
    const back = await TestClient.connect(node.port);
    await back.ok({ type: 'resume', token: host.token });
    const welcome = back.frames.find((f) => f.type === 'welcome')!;
    expect(welcome.seq).toBe(before.seq);
    expect(welcome.state.drawn_card).toEqual(before.view.drawn_card);
    expect(welcome.state.must).toBe('place');
    await back.ok({ type: 'discard' });
    await back.close();

    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    // The embedded PostgreSQL was stopped with the node.
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 240_000);
});
