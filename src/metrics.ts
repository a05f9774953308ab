import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What some gauges read at scrape time (the node fills these in once it has a runtime; until
 * then they read 0).
 */
export interface MetricSources {
  ready: () => boolean;
  watchers: () => number;
  spectators: () => number;
}

/** The node's Prometheus metrics (served at GET /metrics; every one is described in the README). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ms = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000];
  const sources: MetricSources = { ready: () => false, watchers: () => 0, spectators: () => 0 };
  return {
    registry,
    sources,
    ready: new Gauge({
      name: 'golf_node_ready',
      help: '1 while the node takes traffic (recovered, not draining), else 0',
      registers: [registry],
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    }),
    roomsActive: new Gauge({ name: 'golf_rooms_active', help: 'Rooms hosted by this node', registers: [registry] }),
    roomWatchers: new Gauge({
      name: 'golf_room_watchers',
      help: 'Connected players watching the rooms hosted by this node (their sockets on any node)',
      registers: [registry],
      collect() {
        this.set(sources.watchers());
      },
    }),
    roomSpectators: new Gauge({
      name: 'golf_room_spectators',
      help: 'Spectators of the rooms hosted by this node (their sockets on any node)',
      registers: [registry],
      collect() {
        this.set(sources.spectators());
      },
    }),
    connections: new Gauge({ name: 'golf_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    upgradesRefused: new Counter({ name: 'golf_ws_upgrades_refused_total', help: 'WebSocket upgrades refused, by reason', labelNames: ['reason'], registers: [registry] }),
    commands: new Counter({ name: 'golf_commands_total', help: 'Commands processed, by outcome', labelNames: ['outcome'], registers: [registry] }),
    eventsAppended: new Counter({ name: 'golf_events_appended_total', help: 'Domain events appended to PostgreSQL', registers: [registry] }),
    appendBatchSize: new Histogram({ name: 'golf_append_batch_games', help: 'Games per append transaction', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers: [registry] }),
    appendMs: new Histogram({ name: 'golf_append_ms', help: 'Append transaction time', buckets: ms, registers: [registry] }),
    appendsFenced: new Counter({ name: 'golf_appends_fenced_total', help: 'Appends PostgreSQL refused because a newer owner took the game (epoch) or its sequence moved on', registers: [registry] }),
    commandMs: new Histogram({ name: 'golf_command_ms', help: 'Command time in the room (queue, transition, append)', buckets: ms, registers: [registry] }),
    snapshotWrites: new Counter({ name: 'golf_snapshot_writes_total', help: 'Snapshot writes to the state cache, by result', labelNames: ['result'], registers: [registry] }),
    recoveries: new Counter({ name: 'golf_room_recoveries_total', help: 'Rooms restored, by source', labelNames: ['source'], registers: [registry] }),
    recoveryFailures: new Counter({ name: 'golf_room_recovery_failures_total', help: 'Games that could not be restored (a corrupt log: see the logs for the game id and reason)', registers: [registry] }),
    adoptions: new Counter({ name: 'golf_rooms_adopted_total', help: 'Rooms adopted from nodes that died or drained (failovers)', registers: [registry] }),
    adoptionMs: new Histogram({
      name: 'golf_adoption_ms',
      help: 'Time of an adoption pass that took rooms over: leases, epochs, restore, until the rooms are hosted here',
      buckets: [5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    fenced: new Counter({ name: 'golf_rooms_fenced_total', help: 'Rooms stopped because their lease or epoch was lost', registers: [registry] }),
    drains: new Counter({ name: 'golf_drains_total', help: 'Drains started on this node (SIGTERM, SIGINT or a drain request)', registers: [registry] }),
    drainMs: new Histogram({ name: 'golf_drain_ms', help: 'Drain time, from its start to the pools closed', buckets: [10, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
