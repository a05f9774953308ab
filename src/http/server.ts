import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { FinishedGame } from '../stores/event-store.js';
import { REPLAY_PATH, ReplayLoads, serveReplay, type ReplayGuesses } from './replays.js';
import { withSecurityHeaders } from './security-headers.js';

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
  /** /metrics on this server only for `Authorization: Bearer <token>`; null: not here at all. */
  metricsToken: string | null;
  /** The built web client, served at / (optional). */
  staticDir: string | null;
  timeouts: HttpTimeouts;
  /** A finished game by its replay id, for `GET /api/replays/{id}` (absent: no replay API). */
  replays?: (replayId: string) => Promise<FinishedGame | 'too_large' | null>;
  /** Replays loaded at once on this node; more get 503 (absent: no bound). */
  replayConcurrency?: number;
  /** The replay lookups the request's address may make (absent: unlimited). */
  replayGuesses?: (req: IncomingMessage) => ReplayGuesses;
}

export interface HttpTimeouts {
  /** A client has this long to send its request headers (slow-header attacks). */
  headersMs: number;
  /** ...and this long for the whole request. */
  requestMs: number;
}

/**
 * A server whose slow clients are cut off: Node checks the header and request deadlines only
 * every `connectionsCheckingInterval` (30 s by default), so the check runs as often as the
 * shorter deadline needs.
 */
export function guardedServer(timeouts: HttpTimeouts, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Server {
  const server = createServer({ connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 4))) }, (req, res) => {
    withSecurityHeaders(res);
    void handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      else res.destroy();
    });
  });
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = Math.max(timeouts.requestMs, timeouts.headersMs);
  return server;
}

/** Health, readiness, (guarded) metrics and the static web client. WebSockets upgrade on the same server. */
export function createHttpServer(options: HttpOptions): Server {
  const loads = new ReplayLoads(options.replayConcurrency ?? Number.POSITIVE_INFINITY);
  return guardedServer(options.timeouts, (req, res) => route(req, res, options, loads));
}

/** The path of a request, decoded; null when it is not a well-formed one (bad percent-encoding). */
export function requestPath(rawUrl: string | undefined): string | null {
  try {
    const pathname = decodeURIComponent(new URL(rawUrl ?? '/', 'http://localhost').pathname);
    return pathname.includes('\0') ? null : pathname;
  } catch {
    return null;
  }
}

async function route(req: IncomingMessage, res: ServerResponse, options: HttpOptions, loads: ReplayLoads): Promise<void> {
  const pathname = requestPath(req.url);
  if (pathname === null) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (pathname) {
    case '/healthz':
      res.writeHead(options.live() ? 200 : 503, { 'content-type': 'text/plain' }).end(options.live() ? 'ok\n' : 'down\n');
      return;
    case '/readyz': {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    case '/metrics':
      if (options.metricsToken === null) break;
      if (!bearerMatches(req.headers.authorization, options.metricsToken)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n');
        return;
      }
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(await options.registry.metrics());
      return;
  }
  const replay = REPLAY_PATH.exec(pathname);
  if (replay && options.replays) return serveReplay(replay[1]!, options.replays, res, options.replayGuesses?.(req), loads);
  if (!options.staticDir || pathname === '/metrics' || pathname.startsWith('/api/')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  await serveStatic(pathname, options.staticDir, res);
}

/** Constant-time check of `Authorization: Bearer <token>`. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function serveStatic(pathname: string, root: string, res: ServerResponse): Promise<void> {
  const relative = pathname.replace(/^\/+/, '') || 'index.html';
  let file = path.resolve(root, relative);
  if (!file.startsWith(path.resolve(root) + path.sep) && file !== path.resolve(root)) {
    res.writeHead(403).end();
    return;
  }
  // Source maps would publish the client's source: the build makes none, and none is served
  // (judged on the file the path resolves to, whatever its spelling: app.js.map/, app.js%2Emap).
  if (path.extname(file).toLowerCase() === '.map') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
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
  });
  createReadStream(file).pipe(res);
}
