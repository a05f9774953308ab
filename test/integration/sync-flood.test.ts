/**
 * `sync` attacked (PROTOCOL.md "Patches"): each 20-byte `sync` is answered with a whole view, so
 * a client that sends them and never reads would have the server buffer views for it up to the
 * drop threshold (8 MiB a socket, where a slow reader of ordinary views is held to 256 KiB).
 * A sync from a client that is behind is folded into the one latest view it gets when it reads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

describe('sync flood from a client that does not read', () => {
  it('is answered with the latest view once the client reads, not once per sync; the connection stays usable', async () => {
    // The per-connection message rate out of the way: this is about what the answers cost.
    const config = testConfig({ RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });
    configs.push(config);
    const a = await startTestNode(config);
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      for (const profile of ['Sofia', 'Sage', 'Priya']) await host.ok({ type: 'add_cpu', profile });
      await host.ok({ type: 'start_game' });
      const syncs = 8000;
      const before = host.frames.length;
      // Stop reading, then ask for the whole view again and again (~20 MB of answers).
      const socket = (host.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      for (let i = 0; i < syncs; i++) host.ws.send('{"type":"sync"}');
      await new Promise((r) => setTimeout(r, 1500));
      socket.resume();
      host.ws.send('{"type":"hello","accept":[]}');
      await host.waitFor((f) => f.type === 'hello');
      expect(host.closed).toBeNull();
      const answers = host.frames.slice(before).filter((f) => f.type === 'state').length;
      // Whatever the kernel's socket buffers took before the server saw the client was behind,
      // then one: far fewer than one per sync.
      expect(answers).toBeLessThan(syncs / 2);
    } finally {
      await a.drain();
    }
  });
});
