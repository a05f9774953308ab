/**
 * `sync` attacked (PROTOCOL.md "Patches"): each 15-byte `sync` is answered with a whole view
 * (~2.5 KB), an amplification a client could use for bandwidth, or, not reading, to have the
 * server buffer views for it up to the drop threshold (8 MiB a socket, where a slow reader of
 * ordinary views is held to 256 KiB). A sync gets at most one whole view per view.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

async function startedTable(port: number): Promise<TestClient> {
  const host = await TestClient.connect(port);
  await host.ok({ type: 'create_room', name: 'Host' });
  for (const profile of ['Sofia', 'Sage', 'Priya']) await host.ok({ type: 'add_cpu', profile });
  await host.ok({ type: 'start_game' });
  await host.waitForState((v) => v.phase === 'initial_flip');
  return host;
}

describe('sync floods', () => {
  it('a sync of a view the client holds whole already is answered, but a flood of them is closed after ~25 answers, not answered whole each', async () => {
    // The per-connection message rate out of the way: this is about what the answers cost.
    const config = testConfig({ RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });
    configs.push(config);
    const a = await startTestNode(config);
    try {
      const host = await startedTable(a.port);
      const before = host.frames.length;
      // A client that does not read (so an answer is all the server can give it).
      const socket = (host.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const syncs = 8000;
      for (let i = 0; i < syncs; i++) host.ws.send('{"type":"sync"}');
      await new Promise((r) => setTimeout(r, 1000));
      socket.resume();
      await host.waitFor(() => host.closed !== null, 5000).catch(() => undefined);
      expect(host.closed).not.toBeNull();
      // The views of the game's own moves meanwhile, and ~25 answers: not one per sync.
      expect(host.frames.slice(before).filter((f) => f.type === 'state').length).toBeLessThan(100);
    } finally {
      await a.drain();
    }
  });

  it('a client out of step gets the whole view on its sync, then patches again (one sync per view is served)', async () => {
    const config = testConfig();
    configs.push(config);
    const a = await startTestNode(config);
    try {
      const host = await TestClient.connect(a.port, { patches: true });
      await host.ok({ type: 'create_room', name: 'Host' });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      await host.waitForState((v) => v.players.length === 2);
      // A view follows the one that answered the welcome: then a sync is served, whole.
      host.ws.send('{"type":"sync"}');
      const whole = await host.waitFor((f) => f.type === 'state' && f.rev === host.raw.at(-1)?.rev);
      expect(whole.state.players).toHaveLength(2);
      await host.ok({ type: 'add_cpu', profile: 'Sage' });
      await host.waitForState((v) => v.players.length === 3);
      expect(host.raw.at(-1)?.type).toBe('patch');
      expect(host.closed).toBeNull();
    } finally {
      await a.drain();
    }
  });
});
