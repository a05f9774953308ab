/**
 * What the node tells, and to whom: internal failures in generic words, WebSocket origins,
 * security headers on every answer, metrics off the public port, malformed paths.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { UNAVAILABLE_MESSAGE } from '../../src/gateway/protocol.js';
import { createHttpServer } from '../../src/http/server.js';
import { TestClient } from '../support/client.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { rawHttp, tryUpgrade } from '../support/raw.js';

const TOKEN = 'metrics-token-for-tests-0123456789';
let node: Awaited<ReturnType<typeof startTestNode>>;
beforeAll(async () => {
  node = await startTestNode(testConfig({ ALLOWED_ORIGINS: 'http://good.example,https://also.example' }));
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

const SECURITY = {
  'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

describe('internal failures', () => {
  it('reach the client in generic words: no node id, no internal detail', async () => {
    const host = await TestClient.connect(node.port);
    await host.ok({ type: 'create_room', name: 'Host' });
    const code = host.room;
    // The room leaves this node while another holder keeps its lease: activating it here fails
    // with "room … is hosted by another node (<node id>)".
    node.runtime.hosted().find((actor) => actor.code === code)!.stop('test: moved away');
    let lease = null;
    for (let i = 0; i < 100 && !lease; i++) {
      lease = await node.backends.leases.tryAcquire(code);
      if (!lease) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lease).not.toBeNull();
    try {
      const guest = await TestClient.connect(node.port);
      const reply = await guest.request({ type: 'join_room', room: code, name: 'Guest' });
      expect(reply).toMatchObject({ type: 'error', code: 'unavailable', message: UNAVAILABLE_MESSAGE });
      const said = JSON.stringify(guest.frames);
      expect(said).not.toContain(node.config.NODE_ID);
      expect(said).not.toMatch(/hosted by|node \(|Error|at \w+ \(/);
    } finally {
      await lease!.release();
    }
  });
});

describe('WebSocket origins (ALLOWED_ORIGINS)', () => {
  it('a page from another origin is refused with 403 before the upgrade; listed origins and programs without one get in', async () => {
    const evil = await tryUpgrade(node.port, { origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.headers).toMatchObject(SECURITY);
    expect((await tryUpgrade(node.port, { origin: 'null' })).status).toBe(403);
    for (const origin of ['http://good.example', 'https://also.example']) {
      const ok = await tryUpgrade(node.port, { origin });
      expect(ok.ws).toBeDefined();
      ok.ws!.close();
    }
    const program = await tryUpgrade(node.port);
    expect(program.ws).toBeDefined();
    program.ws!.close();
  });
});

describe('HTTP answers', () => {
  it('every answer carries the security headers (page, health, not found, refused upgrade)', async () => {
    for (const url of ['/', '/healthz', '/readyz', '/nothing/here', '/metrics']) {
      const res = await fetch(`http://127.0.0.1:${node.port}${url}`);
      expect(Object.fromEntries(res.headers), url).toMatchObject(SECURITY);
    }
    const wrongPath = await tryUpgrade(node.port, {}, '/not-ws');
    expect(wrongPath.status).toBe(404);
    expect(wrongPath.headers).toMatchObject(SECURITY);
  });

  it('a path with bad percent-encoding is a 400, not a 500; a malformed URL on an upgrade does not bring the node down', async () => {
    for (const target of ['/%', '/assets/%E0%A4%A', '/%zz/index.html', '/a%00b']) {
      const { response } = await rawHttp(node.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(response, target).toMatch(/^HTTP\/1.1 400 /);
    }
    const { response } = await rawHttp(
      node.port,
      'GET http://[/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1.1 404 /);
    expect((await fetch(`http://127.0.0.1:${node.port}/healthz`)).status).toBe(200);
  });
});

describe('metrics', () => {
  it('live on their own listener (METRICS_PORT), not on the public port', async () => {
    expect(node.metricsPort).toBeGreaterThan(0);
    expect(node.metricsPort).not.toBe(node.port);
    const res = await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/golf_ws_connections/);
    expect(Object.fromEntries(res.headers)).toMatchObject(SECURITY);
    expect((await fetch(`http://127.0.0.1:${node.metricsPort}/`)).status).toBe(404);
    const pub = await fetch(`http://127.0.0.1:${node.port}/metrics`);
    expect(pub.status).toBe(404);
    expect(await pub.text()).not.toMatch(/golf_/);
  });

  it('with METRICS_TOKEN, also on the public port for `Authorization: Bearer <token>` only', async () => {
    const guarded = await startTestNode(testConfig({ METRICS_TOKEN: TOKEN }));
    try {
      const at = `http://127.0.0.1:${guarded.port}/metrics`;
      expect((await fetch(at)).status).toBe(401);
      expect((await fetch(at, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } })).status).toBe(401);
      const ok = await fetch(at, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/golf_rooms_active/);
    } finally {
      await guarded.drain();
      await cleanup(guarded.config as Config);
    }
  });
});

describe('the static web client', () => {
  it('never serves source maps; answers carry the security headers', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'golf-static-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(root, 'assets', 'app.js'), 'export {};\n//# sourceMappingURL=app.js.map\n');
    writeFileSync(path.join(root, 'assets', 'app.js.map'), '{"version":3,"sources":["secret.ts"]}');
    const server = createHttpServer({
      live: () => true,
      ready: () => true,
      registry: new Registry(),
      metricsToken: null,
      staticDir: root,
      timeouts: { headersMs: 10_000, requestMs: 30_000 },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const js = await fetch(`${base}/assets/app.js`);
      expect(js.status).toBe(200);
      expect(Object.fromEntries(js.headers)).toMatchObject(SECURITY);
      for (const map of ['/assets/app.js.map', '/assets/app.js%2Emap', '/assets/app.js.map/', '/assets/APP.JS.MAP', '/assets/missing.js.map']) {
        const res = await fetch(`${base}${map}`);
        expect(res.status, map).toBe(404);
        expect(await res.text()).not.toContain('secret.ts');
      }
      const page = await fetch(`${base}/?room=ABCD`);
      expect(page.status).toBe(200);
      expect(Object.fromEntries(page.headers)).toMatchObject(SECURITY);
    } finally {
      server.close();
    }
  });
});
