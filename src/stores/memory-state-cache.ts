import {
  hashToMeta,
  isNewer,
  metaToHash,
  GONE_MARK_MS,
  type NodeState,
  type RestoredRoom,
  type RoomFields,
  type RoomMeta,
  type RoomOwner,
  type SnapshotRecord,
  type StateCache,
} from './state-cache.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * The state cache in process memory, for a node running alone (no REDIS_URL). Same semantics
 * as the Redis one, TTLs included; nothing survives the process (the events do).
 */
export class MemoryStateCache implements StateCache {
  private readonly rooms = new Map<string, Entry<RoomMeta>>();
  private readonly games = new Map<string, Entry<string>>();
  private readonly players = new Map<string, Entry<Set<string>>>();
  private readonly playerRooms = new Map<string, Entry<string>>();
  private readonly active = new Set<string>();
  /** Each node's heartbeat: until when it is live, or until when its "gone" mark stays. */
  private readonly nodes = new Map<string, { until: number; gone: boolean }>();
  private indexed = false;
  /** The token of the rebuild under way (see StateCache.beginIndexBuild). */
  private indexing: string | null = null;
  private builds = 0;

  constructor(
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private live<T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  private expiry(): number {
    return this.now() + this.ttlSeconds * 1000;
  }

  async createRoom(code: string, meta: RoomMeta): Promise<boolean> {
    if (this.live(this.rooms, code)) return false;
    this.rooms.set(code, { value: { ...meta }, expiresAt: this.expiry() });
    this.active.add(code);
    return true;
  }

  async getRoom(code: string): Promise<RoomMeta | null> {
    const entry = this.live(this.rooms, code);
    return entry ? { ...entry.value } : null;
  }

  async restoreRooms(rooms: readonly RestoredRoom[]): Promise<number> {
    let created = 0;
    for (const room of rooms) {
      // A room here is whole (memory loses all or nothing) and newer than PostgreSQL's account.
      if (this.live(this.rooms, room.code)) continue;
      this.rooms.set(room.code, { value: hashToMeta(metaToHash(room.meta)) as RoomMeta, expiresAt: this.now() + Math.max(1, room.ttlSeconds) * 1000 });
      if (room.active) this.active.add(room.code);
      created++;
    }
    return created;
  }

  async replaceRoom(code: string, oldGameId: string, meta: RoomMeta): Promise<boolean> {
    const entry = this.live(this.rooms, code);
    if (entry && entry.value.game_id !== oldGameId) return false;
    this.rooms.set(code, { value: { ...meta }, expiresAt: this.expiry() });
    this.active.add(code);
    return true;
  }

  async removeRoom(code: string, gameId: string): Promise<void> {
    if (this.live(this.rooms, code)?.value.game_id === gameId) this.rooms.delete(code);
  }

  async lookupRoom(code: string): Promise<{ meta: RoomMeta | null; indexed: boolean }> {
    return { meta: await this.getRoom(code), indexed: this.indexed };
  }

  async indexBuilt(): Promise<boolean> {
    return this.indexed;
  }

  async beginIndexBuild(by: string): Promise<string> {
    this.indexing = `${by} ${++this.builds}`;
    return this.indexing;
  }

  async markIndexBuilt(_by: string, token: string): Promise<boolean> {
    if (this.indexing !== token) return false;
    this.indexing = null;
    this.indexed = true;
    return true;
  }

  async updateRoom(code: string, fields: RoomFields): Promise<void> {
    const { server_id: _owner, epoch: _epoch, ...rest } = fields as Partial<RoomMeta>;
    const entry = this.live(this.rooms, code);
    if (entry) entry.value = { ...entry.value, ...definedOnly(rest) };
  }

  async claimRoom(code: string, owner: RoomOwner, fields: RoomFields = {}, force = false): Promise<boolean> {
    const { server_id: _owner, epoch: _epoch, ...rest } = fields as Partial<RoomMeta>;
    const entry = this.live(this.rooms, code);
    if (!entry || (entry.value.epoch > owner.epoch && !force)) return false;
    entry.value = { ...entry.value, ...definedOnly(rest), server_id: owner.server_id, epoch: owner.epoch };
    return true;
  }

  async releaseRoom(code: string, owner: RoomOwner): Promise<boolean> {
    const entry = this.live(this.rooms, code);
    if (!entry || entry.value.server_id !== owner.server_id || entry.value.epoch > owner.epoch) return false;
    entry.value = { ...entry.value, server_id: '' };
    return true;
  }

  async saveSnapshot(code: string, gameId: string, record: SnapshotRecord, playerIds: readonly string[], refreshTtls = true): Promise<boolean> {
    const current = this.live(this.games, gameId);
    const currentRecord = current ? (JSON.parse(current.value) as SnapshotRecord) : null;
    const expiresAt = this.expiry();
    let written = false;
    if (isNewer(record, currentRecord)) {
      this.games.set(gameId, { value: JSON.stringify(record), expiresAt });
      written = true;
    } else if (current) current.expiresAt = expiresAt;
    for (const entry of refreshTtls ? [this.live(this.rooms, code), this.live(this.players, code), ...playerIds.map((id) => this.live(this.playerRooms, id))] : []) {
      if (entry) entry.expiresAt = expiresAt;
    }
    return written;
  }

  async loadSnapshot(gameId: string): Promise<SnapshotRecord | null> {
    const entry = this.live(this.games, gameId);
    return entry ? (JSON.parse(entry.value) as SnapshotRecord) : null;
  }

  async loadSnapshots(gameIds: readonly string[]): Promise<Array<SnapshotRecord | null>> {
    return Promise.all(gameIds.map((id) => this.loadSnapshot(id)));
  }

  async setConnected(code: string, playerId: string, connected: boolean): Promise<void> {
    let entry = this.live(this.players, code);
    if (connected) {
      if (!entry) this.players.set(code, (entry = { value: new Set(), expiresAt: this.expiry() }));
      entry.value.add(playerId);
      entry.expiresAt = this.expiry();
    } else entry?.value.delete(playerId);
  }

  async connectedPlayers(code: string): Promise<string[]> {
    return [...(this.live(this.players, code)?.value ?? [])].sort();
  }

  async setPlayerRoom(playerId: string, code: string): Promise<void> {
    this.playerRooms.set(playerId, { value: code, expiresAt: this.expiry() });
  }

  async getPlayerRoom(playerId: string): Promise<string | null> {
    return this.live(this.playerRooms, playerId)?.value ?? null;
  }

  async activeRooms(): Promise<string[]> {
    return [...this.active].sort();
  }

  async deactivate(code: string): Promise<void> {
    this.active.delete(code);
  }

  async pruneActive(): Promise<number> {
    let pruned = 0;
    for (const code of [...this.active]) {
      if (!this.live(this.rooms, code)) {
        this.active.delete(code);
        pruned++;
      }
    }
    return pruned;
  }

  async leasesHeld(): Promise<Set<string>> {
    // A node alone holds every lease itself (MemoryLeases): none is held elsewhere.
    return new Set();
  }

  async heartbeat(nodeId: string, ttlMs: number, keepGone = false): Promise<'live' | 'gone'> {
    const current = this.nodes.get(nodeId);
    if (keepGone && current?.gone && current.until > this.now()) return 'gone';
    this.nodes.set(nodeId, { until: this.now() + ttlMs, gone: false });
    return 'live';
  }

  async forgetNode(nodeId: string): Promise<void> {
    this.nodes.set(nodeId, { until: this.now() + GONE_MARK_MS, gone: true });
  }

  async liveNodes(nodeIds: readonly string[]): Promise<Set<string>> {
    const states = await this.nodeStates(nodeIds);
    return new Set(nodeIds.filter((id) => states.get(id) === 'live'));
  }

  async nodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    const now = this.now();
    const out = new Map<string, NodeState>();
    for (const id of nodeIds) {
      const beat = this.nodes.get(id);
      out.set(id, !beat || beat.until <= now ? 'missing' : beat.gone ? 'gone' : 'live');
    }
    return out;
  }

  async heartbeatMarks(nodeIds: readonly string[]): Promise<Map<string, string | null>> {
    const now = this.now();
    const out = new Map<string, string | null>();
    for (const id of nodeIds) {
      const beat = this.nodes.get(id);
      out.set(id, !beat || beat.until <= now ? null : beat.gone ? 'gone' : String(beat.until));
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** The fields that are set (an update leaves the others as they are). */
function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
