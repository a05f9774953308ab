import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { Gateway } from './gateway/server.js';
import { createMetricsServer } from './http/metrics-server.js';
import { createHttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { RoomRuntime, type RecoverySummary } from './runtime/runtime.js';
import { openBackends, type OpenBackends } from './stores/index.js';

export interface RunningNode {
  port: number;
  /** Where /metrics is served (METRICS_PORT; 0 there picks a free port). */
  metricsPort: number;
  runtime: RoomRuntime;
  backends: OpenBackends;
  recovery: RecoverySummary;
  /** Graceful stop: readiness off, rooms flushed, clients told to reconnect, pools closed. */
  drain(reason?: string): Promise<void>;
  /**
   * Resolves (with who asked) when an operator asks this node to drain over the bus (golfctl
   * drain); the process's owner drains and exits as on SIGTERM (main.ts).
   */
  drainRequested: Promise<string>;
}

/**
 * The package's root: the nearest directory up from this file with a package.json. This file
 * runs from src/ under tsx and from dist/src/ once compiled, and the web client is built to
 * web/dist at the root in both cases.
 */
function packageRoot(from: string): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(from, '..');
}

export const WEB_DIST = path.resolve(packageRoot(path.dirname(fileURLToPath(import.meta.url))), 'web', 'dist');

/** Starts one node: backends, recovery, then HTTP and WebSocket traffic. */
export async function startNode(config: Config, baseLog: Logger): Promise<RunningNode> {
  // Every line names its node (main.ts binds it already; test nodes do not).
  const log = 'node_id' in baseLog.bindings() ? baseLog : baseLog.child({ node_id: config.NODE_ID });
  const metrics = createMetrics();
  let requestDrain: (from: string) => void = () => {};
  const drainRequested = new Promise<string>((resolve) => (requestDrain = resolve));
  const backends = await openBackends(config, log);
  // Taken for dead by peers while it could not hear them (Lifecycle.heartbeat): not ready.
  let expelled = false;
  const runtime = new RoomRuntime(
    backends,
    {
      nodeId: config.NODE_ID,
      timing: { cpu_think_ms: config.CPU_THINK_MS, round_pause_ms: config.ROUND_PAUSE_MS, disconnect_grace_ms: config.DISCONNECT_GRACE_MS },
      roomTtlSeconds: config.ROOM_TTL_SECONDS,
      passivateAfterMs: config.PASSIVATE_AFTER_MS,
      snapshotFlushMs: config.SNAPSHOT_FLUSH_MS,
      seatRate: { perSecond: config.SEAT_RATE_PER_SECOND, burst: config.SEAT_RATE_BURST },
      maxSpectators: config.SPECTATORS_PER_ROOM,
      leaseTtlMs: config.LEASE_TTL_MS,
      failurePollMs: config.FAILURE_POLL_MS,
      onDrainRequest: (from) => {
        log.info({ from }, 'drain requested');
        requestDrain(from);
      },
      onExpelled: (now) => {
        expelled = now;
        if (now) gateway.closeClients('this node lost touch with its peers: resume on another');
      },
      commitSlots: config.PG_COMMIT_SLOTS,
      // A command waits in its room's mailbox at most one store bound, then its append usually
      // takes at most another: a node forwarding it waits for both, and a second more. Past
      // that it tells the player the outcome is unknown and retries by id (remote.ts).
      mailbox: { max: config.ROOM_MAILBOX_MAX, maxWaitMs: config.PG_QUERY_TIMEOUT_MS },
      remoteTimeoutMs: 2 * config.PG_QUERY_TIMEOUT_MS + 1000,
    },
    log,
    metrics,
  );
  let ready = false;
  let draining = false;
  metrics.sources.ready = () => ready && !draining && !expelled;
  metrics.sources.watchers = () => runtime.hosted().reduce((n, actor) => n + actor.watcherCount, 0);
  metrics.sources.spectators = () => runtime.hosted().reduce((n, actor) => n + actor.spectatorCount, 0);
  const timeouts = { headersMs: config.HEADERS_TIMEOUT_MS, requestMs: config.REQUEST_TIMEOUT_MS };
  const server = createHttpServer({
    live: () => true,
    ready: () => ready && !draining && !expelled,
    registry: metrics.registry,
    metricsToken: config.METRICS_TOKEN ?? null,
    staticDir: existsSync(WEB_DIST) ? WEB_DIST : null,
    timeouts,
    replays: (replayId) => backends.events.finishedByReplayId(replayId, config.REPLAY_MAX_EVENTS),
    replayConcurrency: config.REPLAY_CONCURRENCY,
    // The gateway's per-address limits (made just below; asked only once requests come).
    replayGuesses: (req) => gateway.replayGuesses(req),
  });
  const metricsServer = createMetricsServer(metrics.registry, timeouts);
  const gateway = new Gateway(
    server,
    runtime,
    {
      pingMs: config.WS_PING_MS,
      deflate: config.WS_DEFLATE === 'on',
      accepting: () => ready && !draining && !expelled,
      limits: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST, seatTimeoutMs: config.SEAT_TIMEOUT_MS },
      addresses: {
        maxConnections: config.MAX_CONNECTIONS,
        maxConnectionsPerIp: config.MAX_CONNECTIONS_PER_IP,
        roomPerMinute: config.ROOM_RATE_PER_MINUTE,
        roomBurst: config.ROOM_RATE_BURST,
        guessLimit: config.GUESS_LIMIT,
        guessWindowMs: config.GUESS_WINDOW_MS,
      },
      trustProxy: config.TRUST_PROXY,
      allowedOrigins: config.ALLOWED_ORIGINS ?? null,
    },
    log,
    metrics,
  );
  // Listen first (healthz answers during recovery; readyz stays 503 until it is done).
  const listen = (target: Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      target.once('error', reject);
      target.listen(port, host, () => {
        target.off('error', reject);
        resolve((target.address() as AddressInfo).port);
      });
    });
  const metricsPort = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  const port = await listen(server, config.PORT, config.HOST).catch((error) => {
    metricsServer.close();
    throw error;
  });
  await runtime.heartbeat();
  // Room codes are looked up in Redis only: put back what a Redis that lost its data forgot.
  await runtime.rebuildIndex();
  const recovery = await runtime.recoverAll();
  runtime.startBackground();
  await runtime.announceStart().catch((error) => log.warn({ err: (error as Error).message }, 'start announcement failed'));
  ready = true;
  log.info({ port, metrics_port: metricsPort, mode: backends.mode, database: backends.database }, 'node ready');

  let drained: Promise<void> | null = null;
  /** How long a drain waits for its clients to resume elsewhere and close their sockets here (most take 0.2-0.5 s). */
  const CLIENTS_MOVE_MS = 3000;
  const drain = (reason = 'this server is restarting'): Promise<void> => {
    drained ??= (async () => {
      draining = true;
      const started = Date.now();
      metrics.drains.inc();
      log.info({ rooms: runtime.roomCount, connections: gateway.connectionCount }, 'draining');
      // Clients are told to go as soon as the rooms are handed over (the departure announced),
      // not after the commands caught moving are answered: they reconnect to peers and resume
      // there (waiting for their rooms' arrival: see Placement.nextChance) while the peers adopt. Not
      // before the hand-over: told at SIGTERM, their closing sockets' work (watchers dropped,
      // presence) queued ahead of the hand-over's own Redis steps and the peers' adoption, and
      // rooms were hosted elsewhere later (README, "The drain's stalls"). Their sockets stay
      // open until the commands caught moving are answered; most clients close theirs at once.
      // With every room on a peer, the clients are moved before this node says it is gone: told
      // `reconnect` with `overlap`, their sockets here stay served (through the peers) until they
      // have resumed elsewhere and close them, so the move costs them no wait (README, "Drain").
      await runtime.drain(config.DRAIN_TIMEOUT_MS, () => gateway.moveClients(reason, Math.min(CLIENTS_MOVE_MS, config.DRAIN_TIMEOUT_MS)));
      const closing = Date.now();
      await gateway.closeAll(reason, Math.max(100, config.DRAIN_TIMEOUT_MS - (Date.now() - started)));
      log.info({ ms: Date.now() - closing, since_drain_ms: Date.now() - started }, 'drain: clients told to go and closed');
      // Observed before /metrics closes: what is left (closing pools) is quick.
      metrics.drainMs.observe(Date.now() - started);
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      await backends.close();
      log.info({ ms: Date.now() - started }, 'drained');
    })();
    return drained;
  };
  return { port, metricsPort, runtime, backends, recovery, drain, drainRequested };
}
