import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { Gateway } from './gateway/server.js';
import { createHttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { RoomRuntime, type RecoverySummary } from './runtime/runtime.js';
import { openBackends, type OpenBackends } from './stores/index.js';

export interface RunningNode {
  port: number;
  runtime: RoomRuntime;
  backends: OpenBackends;
  recovery: RecoverySummary;
  /** Graceful stop: readiness off, rooms flushed, clients told to reconnect, pools closed. */
  drain(reason?: string): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = path.resolve(here, '..', 'web', 'dist');

/** Starts one node: backends, recovery, then HTTP and WebSocket traffic. */
export async function startNode(config: Config, log: Logger): Promise<RunningNode> {
  const metrics = createMetrics();
  const backends = await openBackends(config, log);
  const runtime = new RoomRuntime(
    backends,
    {
      nodeId: config.NODE_ID,
      timing: { cpu_think_ms: config.CPU_THINK_MS, round_pause_ms: config.ROUND_PAUSE_MS, disconnect_grace_ms: config.DISCONNECT_GRACE_MS },
      roomTtlSeconds: config.ROOM_TTL_SECONDS,
      passivateAfterMs: config.PASSIVATE_AFTER_MS,
      snapshotFlushMs: config.SNAPSHOT_FLUSH_MS,
      leaseTtlMs: config.LEASE_TTL_MS,
    },
    log,
    metrics,
  );
  let ready = false;
  let draining = false;
  const server = createHttpServer({
    live: () => true,
    ready: () => ready && !draining,
    registry: metrics.registry,
    staticDir: existsSync(WEB_DIST) ? WEB_DIST : null,
  });
  const gateway = new Gateway(
    server,
    runtime,
    { pingMs: config.WS_PING_MS, accepting: () => ready && !draining, limits: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST } },
    log,
    metrics,
  );
  // Listen first (healthz answers during recovery; readyz stays 503 until it is done).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await runtime.heartbeat();
  // Room codes are looked up in Redis only: put back what a Redis that lost its data forgot.
  await runtime.rebuildIndex();
  const recovery = await runtime.recoverAll();
  runtime.startBackground();
  await runtime.announceStart().catch((error) => log.warn({ err: (error as Error).message }, 'start announcement failed'));
  ready = true;
  log.info({ port, mode: backends.mode, database: backends.database }, 'node ready');

  let drained: Promise<void> | null = null;
  const drain = (reason = 'this server is restarting'): Promise<void> => {
    drained ??= (async () => {
      draining = true;
      const started = Date.now();
      log.info({ rooms: runtime.roomCount, connections: gateway.connectionCount }, 'draining');
      await runtime.drain(config.DRAIN_TIMEOUT_MS);
      await gateway.closeAll(reason, Math.max(100, config.DRAIN_TIMEOUT_MS - (Date.now() - started)));
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backends.close();
      log.info({ ms: Date.now() - started }, 'drained');
    })();
    return drained;
  };
  return { port, runtime, backends, recovery, drain };
}
