import type { Logger } from '../log.js';
import type { PgEventStore } from '../stores/event-store.js';
import type { PartialOptions } from '../game/index.js';
import type { RoomMeta, StateCache } from '../stores/state-cache.js';

/** After a failed rebuild, lookups that need one are refused this long instead of each asking PostgreSQL. */
const RETRY_AFTER_MS = 1000;

export interface RoomIndexOptions {
  nodeId: string;
  /** Games idle for longer than this are no rooms (ROOM_TTL_SECONDS). */
  ttlSeconds: number;
}

/**
 * Which game a room code names. The index is the Redis room hash `room:{code}`: it exists for
 * every game that can still be played (and, for the rest of their TTL, for finished games, so
 * their players can look at the standings), so a code that is not there is refused from Redis
 * alone: a guessed code costs PostgreSQL nothing.
 *
 * Redis is a cache and may lose everything (a flush, a restart without persistence) while
 * unfinished games sit passivated in PostgreSQL. So the index is rebuilt from PostgreSQL (one
 * query, pipelined writes that never overwrite newer data) at start, and whenever a node finds
 * the index's marker key gone: at its periodic check, or on a lookup that misses.
 *
 * PostgreSQL, not this index, guarantees one unfinished game per code (a unique index); games
 * left idle past the TTL are marked abandoned here, so that their codes become free again.
 */
export class RoomIndex {
  private rebuilding: Promise<{ created: number; marked: boolean }> | null = null;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly cache: StateCache,
    private readonly events: Pick<PgEventStore, 'indexableGames' | 'abandonIdle' | 'createGame'>,
    private readonly options: RoomIndexOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The room a code names, or null. From Redis alone: a miss is believed if the index's marker
   * is there; if not (Redis lost its data), the index is rebuilt first, once for every lookup
   * waiting on it.
   */
  async lookup(code: string): Promise<RoomMeta | null> {
    // The room and the marker in one read: a marker another node's rebuild wrote after this
    // miss would vouch for a miss that is not one.
    const first = await this.cache.lookupRoom(code);
    if (first.meta || first.indexed) return first.meta;
    if (!this.rebuilding && this.now() - this.failedAt < RETRY_AFTER_MS) throw new Error('the room index is being rebuilt; try again');
    const { marked } = await this.rebuild();
    const { meta, indexed } = await this.cache.lookupRoom(code);
    // A miss is believed only from an index known whole (Redis may have lost the rebuild's writes).
    if (meta || marked || indexed) return meta;
    throw new Error('the room index is being rebuilt; try again');
  }

  /**
   * Takes a free room code for a new game: in Redis (atomic, if no room hash has it), then in
   * PostgreSQL, which refuses a code an unfinished game holds even when Redis has lost that
   * game's hash (flushed). False when the code is taken (draw another); throws when a store
   * fails, having given the code back.
   */
  async claim(code: string, meta: RoomMeta, options: PartialOptions): Promise<boolean> {
    if (!(await this.cache.createRoom(code, meta))) return false;
    let stored: boolean;
    try {
      stored = await this.events.createGame({ game_id: meta.game_id, room_code: code, epoch: meta.epoch, server_id: meta.server_id, options });
    } catch (error) {
      await this.forget(code, meta.game_id);
      throw error;
    }
    if (stored) return true;
    // The index had lost that game: give the code back, and put the index right.
    this.log.warn({ room: code }, 'room code held by an unfinished game missing from the room index');
    await this.forget(code, meta.game_id);
    void this.rebuild().catch((error: Error) => this.log.warn({ err: error.message }, 'room index rebuild failed'));
    return false;
  }

  private async forget(code: string, gameId: string): Promise<void> {
    await this.cache.removeRoom(code, gameId).catch(() => undefined);
    await this.cache.deactivate(code).catch(() => undefined);
  }

  /** The periodic check: rebuilds when the marker is gone (Redis lost its data). */
  async check(): Promise<void> {
    if (!(await this.cache.indexBuilt())) await this.rebuild();
  }

  /** At start (after migrations): idle games are abandoned, then the index is rebuilt. */
  async prepare(): Promise<void> {
    await this.abandonIdle();
    await this.rebuild();
  }

  /**
   * Rebuilds the index from PostgreSQL; concurrent callers share one rebuild. `marked`: whether
   * it ended with the index marked whole (not if Redis lost its writes meanwhile, or another
   * node's rebuild started since: the next check, or that rebuild, marks it).
   */
  rebuild(): Promise<{ created: number; marked: boolean }> {
    this.rebuilding ??= this.rebuildNow().then(
      (result) => {
        this.rebuilding = null;
        return result;
      },
      (error: unknown) => {
        this.rebuilding = null;
        this.failedAt = this.now();
        throw error;
      },
    );
    return this.rebuilding;
  }

  /** Unfinished games idle past the TTL give their codes back (their rooms have expired). */
  async abandonIdle(): Promise<number> {
    const abandoned = await this.events.abandonIdle(this.options.ttlSeconds);
    if (abandoned > 0) this.log.info({ games: abandoned, idle_seconds: this.options.ttlSeconds }, 'idle games abandoned');
    return abandoned;
  }

  private async rebuildNow(): Promise<{ created: number; marked: boolean }> {
    const started = performance.now();
    const token = await this.cache.beginIndexBuild(this.options.nodeId);
    const games = await this.events.indexableGames(this.options.ttlSeconds);
    const created = await this.cache.restoreRooms(
      games.map((game) => ({
        code: game.room_code,
        meta: { game_id: game.game_id, created_at: game.created_at.toISOString(), status: game.status, server_id: game.server_id, epoch: game.epoch },
        ttlSeconds: game.ttl_seconds,
        active: game.status !== 'finished',
      })),
    );
    // Written last: until the rooms are back, lookups that miss keep asking for a rebuild.
    const marked = await this.cache.markIndexBuilt(this.options.nodeId, token);
    const summary = { games: games.length, restored: created, marked, ms: Math.round(performance.now() - started) };
    if (!marked) this.log.warn(summary, 'room index rebuilt but not marked whole (Redis lost data meanwhile, or another rebuild started)');
    else if (created > 0) this.log.info(summary, 'room index rebuilt');
    else this.log.debug(summary, 'room index checked');
    return { created, marked };
  }
}
