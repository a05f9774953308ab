import type { SnapshotRecord } from '../stores/state-cache.js';
import type { Placement } from './placement.js';
import type { RoomActor } from './room-actor.js';
import type { RuntimeDeps } from './types.js';

/**
 * One room handed from a draining node to the peer it named, with the room's last committed
 * snapshot: the peer restores from it instead of reading Redis (PostgreSQL still gives the
 * epoch and the last sequence: a snapshot behind it is caught up from the events, as always).
 */
export interface HandedRoom {
  code: string;
  game_id: string;
  epoch: number;
  status: 'lobby' | 'playing' | 'finished';
  snapshot: SnapshotRecord;
}

/** The bus message: `from` hands these rooms to the node it is sent to. */
export interface HandoffMessage {
  kind: 'handoff';
  from: string;
  rooms: HandedRoom[];
}

/**
 * Rooms stopped and sent together: each room pauses only for its own wave's hand-over (its
 * last move settling, one bus message, the adopter's lease, epoch and room-hash writes), not
 * for the whole node's. At least WAVE_ROOMS, and the node's rooms in at most WAVES waves (so
 * that a drain of many rooms ends in time: a wave took 300-800 ms at 200 rooms). One wave at a
 * time: with two on their way at once, or bigger waves, players stalled longer at 200 rooms
 * (README, "The drain's stalls").
 */
export const WAVE_ROOMS = 6;
export const WAVES = 12;
/** Waves on their way at once: the next one starts once the one before arrived (or WAVE_WAIT_MS passed). */
export const WAVES_IN_FLIGHT = 1;
/** How long a wave holds back the next one in its lane while its adopters restore it (pacing only: its arrival is waited for longer). */
export const WAVE_WAIT_MS = 1000;
/** How long a handed room's arrival (its adopter's `hosted` news) is waited for before the drain leaves it to the departure. */
export const ARRIVAL_WAIT_MS = 3000;

/**
 * The draining side of a hand-over: moves the rooms to their named adopters a few at a time
 * (see WAVE_ROOMS), each wave stopped, settled and sent with its snapshots, and confirmed by the
 * adopters' `hosted` news. The rooms not in a wave yet keep playing here meanwhile; a room's
 * queued commands are refused as moving when it stops and follow it (RoomRuntime.command waits
 * for the `hosted` news). Returns the rooms whose adopters said they host them: the drain
 * leaves the others to the usual departure (leases released, `node_gone` naming adopters).
 */
export async function handOff(actors: readonly RoomActor[], adopters: Record<string, string>, placement: Placement, deps: RuntimeDeps, until: number): Promise<Set<string>> {
  const { backends, options, log } = deps;
  const hosted = new Set<string>();
  const named = actors.filter((a) => adopters[a.code] !== undefined && !a.stopped);
  const waves: RoomActor[][] = [];
  const size = Math.max(WAVE_ROOMS, Math.ceil(named.length / WAVES));
  for (let i = 0; i < named.length; i += size) waves.push(named.slice(i, i + size));
  const arrivals: Array<Promise<void>> = [];
  const moveWave = async (wave: RoomActor[]): Promise<void> => {
    if (Date.now() >= until) return;
    // Waited for from before the stop: the news may come back before the send resolves.
    const arrived = Promise.all(
      wave.map((a) =>
        placement.handovers.arrival(a.code, Math.max(50, Math.min(ARRIVAL_WAIT_MS, until - Date.now()))).then((yes) => {
          if (yes) hosted.add(a.code);
        }),
      ),
    ).then(() => undefined);
    arrivals.push(arrived);
    // The move in progress commits (or is fenced), its views sent, before the room stops and
    // its snapshot is taken (RoomActor.close).
    for (const actor of wave) actor.close();
    await within(Math.max(0, until - Date.now()), Promise.all(wave.map((a) => a.idle())));
    for (const actor of wave) actor.stop('draining');
    const to = new Map<string, HandedRoom[]>();
    for (const actor of wave) {
      const peer = adopters[actor.code]!;
      const list = to.get(peer) ?? [];
      list.push({ code: actor.code, game_id: actor.gameId, epoch: actor.epoch, status: statusOf(actor), snapshot: actor.persisted() });
      to.set(peer, list);
    }
    await Promise.all(
      [...to].map(([peer, rooms]) => backends.bus.send(peer, { kind: 'handoff', from: options.nodeId, rooms } satisfies HandoffMessage).catch((error) => log.warn({ peer, err: (error as Error).message }, 'hand-over not sent'))),
    );
    // The next wave in this lane waits for this one's arrival, a moment at most: a loaded
    // adopter must not hold the other rooms here (they only wait to be sent).
    await within(WAVE_WAIT_MS, arrived);
  };
  // A few waves on their way at once, the next started as one ends.
  let next = 0;
  const lanes = Array.from({ length: Math.min(WAVES_IN_FLIGHT, waves.length) }, async () => {
    while (next < waves.length) await moveWave(waves[next++]!);
  });
  await Promise.all(lanes);
  await Promise.all(arrivals);
  return hosted;
}

function statusOf(actor: RoomActor): HandedRoom['status'] {
  const phase = actor.game.phase;
  return phase === 'lobby' ? 'lobby' : phase === 'game_over' ? 'finished' : 'playing';
}

/** `work`'s result, or undefined once `ms` have passed (the work goes on unwaited). */
export async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
