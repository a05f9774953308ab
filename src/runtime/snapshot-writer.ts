import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { StateCache } from '../stores/state-cache.js';
import type { RoomActor } from './room-actor.js';

/**
 * Write-behind of room snapshots to the state cache. Only a room's latest snapshot matters,
 * so writes are coalesced per room and sent together every `flushMs` (by default 0: on the
 * next turn of the event loop, so a snapshot follows every transition, and the transitions of
 * one turn share one write per room); the cache refuses any write older than what it holds.
 * The writes of a turn go out together (ioredis pipelines what is sent in one turn), and the
 * TTLs of a room's other keys are refreshed once a minute, not on every move.
 *
 * The events in PostgreSQL are the truth: a snapshot that trails them by a few moves is
 * caught up from the events on restore. Drain and passivation flush everything.
 */
/** How often a room's keys other than its snapshot get their TTLs refreshed (they last hours). */
const TTL_REFRESH_MS = 60_000;

export class SnapshotWriter {
  private readonly dirty = new Map<string, RoomActor>();
  private readonly status = new Map<string, string>();
  /** When each room's other keys last had their TTLs refreshed (by this writer's clock). */
  private readonly refreshed = new Map<string, number>();
  /**
   * Per room: how many times it was marked, and the count its last write in the cache stands
   * for (a room whose two counts agree, with nothing in flight, has its latest snapshot there).
   */
  private readonly marks = new Map<string, number>();
  private readonly saved = new Map<string, number>();
  private scheduled = false;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly cache: StateCache,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly flushMs = 0,
  ) {}

  mark(actor: RoomActor): void {
    this.marks.set(actor.code, (this.marks.get(actor.code) ?? 0) + 1);
    this.dirty.set(actor.code, actor);
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.inflight = this.inflight.then(() => this.write());
    };
    if (this.flushMs > 0) setTimeout(run, this.flushMs).unref();
    else setImmediate(run);
  }

  /** Writes everything marked so far; resolves when it is in the cache. */
  async flush(): Promise<void> {
    this.inflight = this.inflight.then(() => this.write());
    await this.inflight;
  }

  /**
   * Whether the cache may lack this room's latest snapshot: it changed since its last write
   * that succeeded (or is waiting to be written). A drain writes only these, not every room.
   */
  behind(actor: RoomActor): boolean {
    const marks = this.marks.get(actor.code);
    return marks === undefined || this.dirty.has(actor.code) || this.saved.get(actor.code) !== marks;
  }

  forget(code: string): void {
    this.status.delete(code);
    this.refreshed.delete(code);
    this.marks.delete(code);
    this.saved.delete(code);
  }

  private async write(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = [...this.dirty.values()].map((actor) => ({ actor, marks: this.marks.get(actor.code) ?? 0 }));
    this.dirty.clear();
    await Promise.all(batch.map(({ actor, marks }) => this.writeOne(actor, marks)));
  }

  private async writeOne(actor: RoomActor, marks: number): Promise<void> {
    const game = actor.game;
    try {
      const now = Date.now();
      // A minute, or a quarter of the TTL when that is shorter (tests run with seconds).
      const every = Math.min(TTL_REFRESH_MS, this.cache.ttlSeconds * 250);
      const refresh = now - (this.refreshed.get(actor.code) ?? Number.NEGATIVE_INFINITY) >= every;
      const written = await this.cache.saveSnapshot(actor.code, actor.gameId, actor.persisted(), game.players.map((p) => p.id), refresh);
      if (refresh) this.refreshed.set(actor.code, now);
      // Written, or refused as older than what the cache holds: either way the cache is current.
      // Not for an actor replaced meanwhile under the same code (its marks are its successor's).
      if (this.marks.get(actor.code) !== undefined) this.saved.set(actor.code, marks);
      this.metrics?.snapshotWrites.inc({ result: written ? 'written' : 'stale' });
      const status = game.phase === 'lobby' ? 'lobby' : game.phase === 'game_over' ? 'finished' : 'playing';
      const known = this.status.get(actor.code);
      if (known !== `${status}:${game.host_id}`) {
        await this.cache.updateRoom(actor.code, { status, host_id: game.host_id });
        if (status === 'finished') await this.cache.deactivate(actor.code);
        this.status.set(actor.code, `${status}:${game.host_id}`);
      }
    } catch (error) {
      this.metrics?.snapshotWrites.inc({ result: 'failed' });
      // The cache is a cache: PostgreSQL has the events; a later write or a replay catches up.
      actor.log.warn({ err: (error as Error).message }, 'snapshot write failed');
    }
  }
}
