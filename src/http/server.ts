import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Registry } from 'prom-client';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

export interface HttpOptions {
  /** 200 while the process is alive. */
  live(): boolean;
  /** 200 only while the node takes traffic (not while recovering or draining). */
  ready(): boolean;
  registry: Registry;
  /** The built web client, served at / (optional). */
  staticDir: string | null;
}

/** Health, readiness, metrics and the static web client. WebSockets upgrade on the same server. */
export function createHttpServer(options: HttpOptions): Server {
  return createServer((req, res) => {
    void route(req, res, options).catch(() => {
      if (!res.headersSent) res.writeHead(500).end('internal error');
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse, options: HttpOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (url.pathname) {
    case '/healthz':
      res.writeHead(options.live() ? 200 : 503, { 'content-type': 'text/plain' }).end(options.live() ? 'ok\n' : 'down\n');
      return;
    case '/readyz': {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    case '/metrics':
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(await options.registry.metrics());
      return;
  }
  if (!options.staticDir) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  await serveStatic(url.pathname, options.staticDir, res);
}

async function serveStatic(pathname: string, root: string, res: ServerResponse): Promise<void> {
  const relative = decodeURIComponent(pathname).replace(/^\/+/, '') || 'index.html';
  let file = path.resolve(root, relative);
  if (!file.startsWith(path.resolve(root) + path.sep) && file !== path.resolve(root)) {
    res.writeHead(403).end();
    return;
  }
  let info = await stat(file).catch(() => null);
  if (!info || !info.isFile()) {
    // Single-page app: unknown paths (invite links) get the index.
    file = path.resolve(root, 'index.html');
    info = await stat(file).catch(() => null);
    if (!info) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const immutable = file.includes(`${path.sep}assets${path.sep}`);
  res.writeHead(200, {
    'content-type': type,
    'content-length': info.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  createReadStream(file).pipe(res);
}
