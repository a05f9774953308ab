import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The node's Prometheus metrics (served at GET /metrics). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ms = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000];
  return {
    registry,
    roomsActive: new Gauge({ name: 'golf_rooms_active', help: 'Rooms hosted by this node', registers: [registry] }),
    connections: new Gauge({ name: 'golf_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    upgradesRefused: new Counter({ name: 'golf_ws_upgrades_refused_total', help: 'WebSocket upgrades refused, by reason', labelNames: ['reason'], registers: [registry] }),
    commands: new Counter({ name: 'golf_commands_total', help: 'Commands processed, by outcome', labelNames: ['outcome'], registers: [registry] }),
    eventsAppended: new Counter({ name: 'golf_events_appended_total', help: 'Domain events appended to PostgreSQL', registers: [registry] }),
    appendBatchSize: new Histogram({ name: 'golf_append_batch_games', help: 'Games per append transaction', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers: [registry] }),
    appendMs: new Histogram({ name: 'golf_append_ms', help: 'Append transaction time', buckets: ms, registers: [registry] }),
    commandMs: new Histogram({ name: 'golf_command_ms', help: 'Command time in the room (queue, transition, append)', buckets: ms, registers: [registry] }),
    snapshotWrites: new Counter({ name: 'golf_snapshot_writes_total', help: 'Snapshot writes to the state cache, by result', labelNames: ['result'], registers: [registry] }),
    recoveries: new Counter({ name: 'golf_room_recoveries_total', help: 'Rooms restored, by source', labelNames: ['source'], registers: [registry] }),
    fenced: new Counter({ name: 'golf_rooms_fenced_total', help: 'Rooms stopped because their lease or epoch was lost', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
