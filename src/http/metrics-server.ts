import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { guardedServer, requestPath, type HttpTimeouts } from './server.js';

/**
 * /metrics on a listener of its own (METRICS_PORT, on loopback by default): what a node is
 * doing is for the operator's scraper, not for whoever can reach the game's port.
 */
export function createMetricsServer(registry: Registry, timeouts: HttpTimeouts): Server {
  return guardedServer(timeouts, async (req, res) => {
    if (requestPath(req.url) !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
}
