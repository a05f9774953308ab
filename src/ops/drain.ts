/**
 * Asking a node to drain from outside its host: a `drain` message on its bus inbox, which the
 * node honours as it does SIGTERM (rooms handed over, clients told to reconnect, exit 0).
 */
import { hostname } from 'node:os';
import type { BusMessage } from '../runtime/remote.js';
import type { OpsStores } from './stores.js';

export interface DrainResult {
  node: string;
  /** The node got the message (it was subscribed to its inbox). */
  requested: boolean;
  /** Its heartbeat disappeared (the drain's last step) within the wait; null when not waited for. */
  drained: boolean | null;
  ms: number;
  /** Unfinished games whose room hash still named the node before the drain. */
  rooms_before: number;
  /** ... and after it (rooms being adopted; 0 once peers have taken them all). */
  rooms_after: number | null;
  message: string;
  /** Said when no other node is alive: the rooms then wait in the stores for the next start. */
  warning: string | null;
}

async function roomsOn(stores: OpsStores, node: string): Promise<number> {
  const codes = await stores.cache.activeRooms();
  if (codes.length === 0) return 0;
  const pipeline = stores.redis.pipeline();
  for (const code of codes) pipeline.hget(stores.keys.room(code), 'server_id');
  return ((await pipeline.exec()) ?? []).filter(([, owner]) => owner === node).length;
}

export async function requestDrain(stores: OpsStores, node: string, options: { wait: boolean; timeoutMs: number }): Promise<DrainResult> {
  const started = Date.now();
  const beats = await stores.heartbeats();
  const alone = beats.has(node) && beats.size === 1;
  const warning = alone ? `${node} is the only live node: its rooms stay in Redis and PostgreSQL until a node starts` : null;
  const base = { node, requested: false, drained: null, rooms_before: 0, rooms_after: null, warning };
  if (!beats.has(node)) return { ...base, ms: 0, message: `no live node ${node} (no heartbeat); see golfctl nodes` };
  const roomsBefore = await roomsOn(stores, node);
  const message: BusMessage = { kind: 'drain', node, from: `golfctl@${hostname()}` };
  // The inbox channel of bus.ts; PUBLISH answers how many subscribers got it.
  const receivers = await stores.redis.publish(`${stores.config.REDIS_PREFIX}bus:node:${node}`, JSON.stringify(message));
  if (receivers === 0) return { ...base, rooms_before: roomsBefore, ms: Date.now() - started, message: `node ${node} has a heartbeat but is not listening on its inbox` };
  if (!options.wait) return { ...base, requested: true, rooms_before: roomsBefore, ms: Date.now() - started, message: `drain requested from ${node}` };
  const deadline = started + options.timeoutMs;
  while (Date.now() < deadline) {
    if (!(await stores.heartbeats()).has(node)) {
      // Peers adopt at once on the drain's announcement; give them a moment to record it.
      let after = await roomsOn(stores, node);
      for (let i = 0; i < 20 && after > 0 && !alone; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await roomsOn(stores, node);
      }
      return { ...base, requested: true, drained: true, rooms_before: roomsBefore, rooms_after: after, ms: Date.now() - started, message: `node ${node} drained` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...base, requested: true, drained: false, rooms_before: roomsBefore, rooms_after: await roomsOn(stores, node), ms: Date.now() - started, message: `node ${node} still has a heartbeat after ${options.timeoutMs} ms` };
}
