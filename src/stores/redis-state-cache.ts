import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  decodeSnapshot,
  encodeSnapshot,
  GONE_MARK,
  GONE_MARK_MS,
  hashToMeta,
  keyNames,
  metaToHash,
  type KeyNames,
  type NodeState,
  type RestoredRoom,
  type RoomFields,
  type RoomMeta,
  type RoomOwner,
  type SnapshotRecord,
  type StateCache,
} from './state-cache.js';

/** A heartbeat written unless the key holds a peer's `gone` mark (then 0, and the mark stays). */
const HEARTBEAT_UNLESS_GONE = `
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const CREATE_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`;

// KEYS[1]: the room hash, KEYS[2]: the active set. ARGV: ttl seconds, code, active (1/0),
// game_id, then field/value pairs. Never over newer data: a hash naming another game is left
// alone; in one naming this game only missing fields are set (HSETNX).
const RESTORE_ROOM = `
local current = redis.call('HGET', KEYS[1], 'game_id')
if current and current ~= ARGV[4] then return 0 end
redis.call('HSETNX', KEYS[1], 'game_id', ARGV[4])
for i = 5, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
if current then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ARGV[3] == '1' then redis.call('SADD', KEYS[2], ARGV[2]) end
return 1`;

// KEYS[1]: the room hash, KEYS[2]: the active set. ARGV: ttl seconds, code, old game_id, then
// field/value pairs. The hash is replaced whole (a new game's owner starts at epoch 1) only if it
// still names the old game, or is gone.
const REPLACE_ROOM = `
local current = redis.call('HGET', KEYS[1], 'game_id')
if current and current ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`;

const REMOVE_ROOM = `
if redis.call('HGET', KEYS[1], 'game_id') == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

// KEYS[1]: the room hash. ARGV: server_id, epoch, force (1/0), then field/value pairs. Only an
// existing room, and never over a newer epoch's owner (epochs only grow: a newer one fenced the
// older) unless forced (PostgreSQL says the record is wrong).
const CLAIM_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') or 0
if current > tonumber(ARGV[2]) and ARGV[3] ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'server_id', ARGV[1], 'epoch', ARGV[2], unpack(ARGV, 4))
return 1`;

// KEYS[1]: the room hash. ARGV: server_id, epoch. Clears the owner only if it is still that
// node at that epoch or an older one.
const RELEASE_ROOM = `
if redis.call('HGET', KEYS[1], 'server_id') ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0') or 0
if current > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'server_id', '')
return 1`;

// KEYS[1]: the rebuild's start, KEYS[2]: the marker. ARGV: the rebuild's token, the marker's text.
// Only the rebuild the cache saw start marks the index whole (a Redis restarted meanwhile lost
// the start with the rooms put back).
const MARK_INDEX_BUILT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1`;

/** How long a rebuild's start is kept (a rebuild is one query and a few pipelined writes). */
const INDEX_BUILD_MS = 10 * 60_000;

// KEYS[1]: the game snapshot; KEYS[2..]: keys whose TTL is refreshed.
// ARGV: seq, epoch, document, ttl seconds. The stored document starts {"seq":N,"epoch":E,...
const SAVE_SNAPSHOT = `
local current = redis.call('GETRANGE', KEYS[1], 0, 63)
local written = 0
local seq, epoch = tonumber(ARGV[1]), tonumber(ARGV[2])
local newer = true
if current and current ~= '' then
  local cseq, cepoch = string.match(current, '^{"seq":(%d+),"epoch":(%d+)')
  cseq, cepoch = tonumber(cseq), tonumber(cepoch)
  if cseq and cepoch and (epoch < cepoch or (epoch == cepoch and seq <= cseq)) then newer = false end
end
if newer then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
  written = 1
else
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
for i = 2, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return written`;

export interface RedisStateCacheOptions {
  prefix: string;
  ttlSeconds: number;
}

/** The state cache on Redis (ioredis), with the key model and TTLs of DESIGN.md. */
export class RedisStateCache implements StateCache {
  private readonly keys: KeyNames;

  constructor(
    readonly redis: Redis,
    private readonly options: RedisStateCacheOptions,
  ) {
    this.keys = keyNames(options.prefix);
    redis.defineCommand('golfCreateRoom', { numberOfKeys: 2, lua: CREATE_ROOM });
    redis.defineCommand('golfSaveSnapshot', { lua: SAVE_SNAPSHOT });
    redis.defineCommand('golfRestoreRoom', { numberOfKeys: 2, lua: RESTORE_ROOM });
    redis.defineCommand('golfRemoveRoom', { numberOfKeys: 1, lua: REMOVE_ROOM });
    redis.defineCommand('golfReplaceRoom', { numberOfKeys: 2, lua: REPLACE_ROOM });
    redis.defineCommand('golfClaimRoom', { numberOfKeys: 1, lua: CLAIM_ROOM });
    redis.defineCommand('golfMarkIndexBuilt', { numberOfKeys: 2, lua: MARK_INDEX_BUILT });
    redis.defineCommand('golfReleaseRoom', { numberOfKeys: 1, lua: RELEASE_ROOM });
  }

  async createRoom(code: string, meta: RoomMeta): Promise<boolean> {
    const fields = Object.entries(metaToHash(meta)).flat();
    const created = await (this.redis as unknown as Scripts).golfCreateRoom(this.keys.room(code), this.keys.active(), this.options.ttlSeconds, code, ...fields);
    return created === 1;
  }

  async getRoom(code: string): Promise<RoomMeta | null> {
    return hashToMeta(await this.redis.hgetall(this.keys.room(code)));
  }

  async restoreRooms(rooms: readonly RestoredRoom[]): Promise<number> {
    let created = 0;
    // Pipelined in chunks: one round trip per thousand rooms, each written by its own script.
    for (let i = 0; i < rooms.length; i += 1000) {
      const pipeline = this.redis.pipeline() as unknown as ChainableScripts;
      for (const room of rooms.slice(i, i + 1000)) {
        const { game_id, ...rest } = room.meta;
        pipeline.golfRestoreRoom(
          this.keys.room(room.code),
          this.keys.active(),
          Math.max(1, Math.ceil(room.ttlSeconds)),
          room.code,
          room.active ? 1 : 0,
          game_id,
          ...Object.entries(metaToHash(rest)).flat(),
        );
      }
      for (const [error, result] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        if (result === 1) created++;
      }
    }
    return created;
  }

  async replaceRoom(code: string, oldGameId: string, meta: RoomMeta): Promise<boolean> {
    const fields = Object.entries(metaToHash(meta)).flat();
    const replaced = await (this.redis as unknown as Scripts).golfReplaceRoom(this.keys.room(code), this.keys.active(), this.options.ttlSeconds, code, oldGameId, ...fields);
    return replaced === 1;
  }

  async removeRoom(code: string, gameId: string): Promise<void> {
    await (this.redis as unknown as Scripts).golfRemoveRoom(this.keys.room(code), gameId);
  }

  async lookupRoom(code: string): Promise<{ meta: RoomMeta | null; indexed: boolean }> {
    const results = await this.redis.multi().hgetall(this.keys.room(code)).exists(this.keys.indexed()).exec();
    if (!results) throw new Error('the room lookup was aborted');
    const [[hashError, hash], [existsError, exists]] = results as [[Error | null, Record<string, string>], [Error | null, number]];
    if (hashError) throw hashError;
    if (existsError) throw existsError;
    return { meta: hashToMeta(hash), indexed: exists === 1 };
  }

  async indexBuilt(): Promise<boolean> {
    return (await this.redis.exists(this.keys.indexed())) === 1;
  }

  async beginIndexBuild(by: string): Promise<string> {
    const token = `${by} ${randomBytes(8).toString('hex')}`;
    // Kept long enough for any rebuild; a newer one's start replaces it.
    await this.redis.set(this.keys.indexing(), token, 'PX', INDEX_BUILD_MS);
    return token;
  }

  async markIndexBuilt(by: string, token: string): Promise<boolean> {
    const marked = await (this.redis as unknown as Scripts).golfMarkIndexBuilt(this.keys.indexing(), this.keys.indexed(), token, `${by} ${new Date().toISOString()}`);
    return marked === 1;
  }

  async updateRoom(code: string, fields: RoomFields): Promise<void> {
    const key = this.keys.room(code);
    const { server_id: _owner, epoch: _epoch, ...rest } = fields as Partial<RoomMeta>;
    const args = Object.entries(metaToHash(rest)).flat();
    if (args.length === 0) return;
    // Only an existing room is updated: an expired one must not come back half-empty.
    await this.redis.eval(
      `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end return 0`,
      1,
      key,
      ...args,
    );
  }

  async claimRoom(code: string, owner: RoomOwner, fields: RoomFields = {}, force = false): Promise<boolean> {
    const { server_id: _owner, epoch: _epoch, ...rest } = fields as Partial<RoomMeta>;
    const extra = Object.entries(metaToHash(rest)).flat();
    return (await (this.redis as unknown as Scripts).golfClaimRoom(this.keys.room(code), owner.server_id, owner.epoch, force ? 1 : 0, ...extra)) === 1;
  }

  async releaseRoom(code: string, owner: RoomOwner): Promise<boolean> {
    return (await (this.redis as unknown as Scripts).golfReleaseRoom(this.keys.room(code), owner.server_id, owner.epoch)) === 1;
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  async saveSnapshot(code: string, gameId: string, record: SnapshotRecord, playerIds: readonly string[], refreshTtls = true): Promise<boolean> {
    // The script reads only the stored snapshot's head (its seq and epoch), not all of it.
    const keys = [this.keys.game(gameId), ...(refreshTtls ? [this.keys.room(code), this.keys.players(code), ...playerIds.map((id) => this.keys.playerRoom(id))] : [])];
    const written = await (this.redis as unknown as Scripts).golfSaveSnapshot(
      keys.length,
      ...keys,
      record.seq,
      record.epoch,
      encodeSnapshot(record),
      this.options.ttlSeconds,
    );
    return written === 1;
  }

  async loadSnapshot(gameId: string): Promise<SnapshotRecord | null> {
    return decodeSnapshot(await this.redis.get(this.keys.game(gameId)));
  }

  async loadSnapshots(gameIds: readonly string[]): Promise<Array<SnapshotRecord | null>> {
    const out: Array<SnapshotRecord | null> = [];
    for (let i = 0; i < gameIds.length; i += 500) {
      const chunk = gameIds.slice(i, i + 500).map((id) => this.keys.game(id));
      if (chunk.length === 0) continue;
      for (const text of await this.redis.mget(...chunk)) out.push(decodeSnapshot(text));
    }
    return out;
  }

  async setConnected(code: string, playerId: string, connected: boolean): Promise<void> {
    const key = this.keys.players(code);
    if (connected) await this.redis.multi().sadd(key, playerId).expire(key, this.options.ttlSeconds).exec();
    else await this.redis.srem(key, playerId);
  }

  async connectedPlayers(code: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.players(code))).sort();
  }

  async setPlayerRoom(playerId: string, code: string): Promise<void> {
    await this.redis.set(this.keys.playerRoom(playerId), code, 'EX', this.options.ttlSeconds);
  }

  async getPlayerRoom(playerId: string): Promise<string | null> {
    return this.redis.get(this.keys.playerRoom(playerId));
  }

  async activeRooms(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.active())).sort();
  }

  async deactivate(code: string): Promise<void> {
    await this.redis.srem(this.keys.active(), code);
  }

  async pruneActive(): Promise<number> {
    let cursor = '0';
    let pruned = 0;
    do {
      const [next, codes] = await this.redis.sscan(this.keys.active(), cursor, 'COUNT', 500);
      cursor = next;
      if (codes.length === 0) continue;
      const exists = await Promise.all(codes.map((code) => this.redis.exists(this.keys.room(code))));
      const gone = codes.filter((_, i) => exists[i] === 0);
      if (gone.length > 0) pruned += await this.redis.srem(this.keys.active(), ...gone);
    } while (cursor !== '0');
    return pruned;
  }

  async leasesHeld(codes: readonly string[]): Promise<Set<string>> {
    if (codes.length === 0) return new Set();
    const values = await this.redis.mget(...codes.map((code) => this.keys.lease(code)));
    return new Set(codes.filter((_, i) => values[i] !== null));
  }

  async heartbeat(nodeId: string, ttlMs: number, keepGone = false): Promise<'live' | 'gone'> {
    if (!keepGone) {
      await this.redis.set(this.keys.node(nodeId), String(Date.now()), 'PX', ttlMs);
      return 'live';
    }
    const written = await this.redis.eval(HEARTBEAT_UNLESS_GONE, 1, this.keys.node(nodeId), String(Date.now()), String(ttlMs), GONE_MARK);
    return written === 1 ? 'live' : 'gone';
  }

  async forgetNode(nodeId: string): Promise<void> {
    await this.redis.set(this.keys.node(nodeId), GONE_MARK, 'PX', GONE_MARK_MS);
  }

  async liveNodes(nodeIds: readonly string[]): Promise<Set<string>> {
    const states = await this.nodeStates(nodeIds);
    return new Set(nodeIds.filter((id) => states.get(id) === 'live'));
  }

  async nodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>> {
    const out = new Map<string, NodeState>();
    if (nodeIds.length === 0) return out;
    const values = await this.redis.mget(...nodeIds.map((id) => this.keys.node(id)));
    nodeIds.forEach((id, i) => out.set(id, values[i] === null ? 'missing' : values[i] === GONE_MARK ? 'gone' : 'live'));
    return out;
  }

  async heartbeatMarks(nodeIds: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (nodeIds.length === 0) return out;
    const values = await this.redis.mget(...nodeIds.map((id) => this.keys.node(id)));
    nodeIds.forEach((id, i) => out.set(id, values[i] ?? null));
    return out;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

interface Scripts {
  golfCreateRoom(...args: Array<string | number>): Promise<number>;
  golfSaveSnapshot(...args: Array<string | number>): Promise<number>;
  golfRemoveRoom(...args: Array<string | number>): Promise<number>;
  golfReplaceRoom(...args: Array<string | number>): Promise<number>;
  golfClaimRoom(...args: Array<string | number>): Promise<number>;
  golfMarkIndexBuilt(...args: Array<string | number>): Promise<number>;
  golfReleaseRoom(...args: Array<string | number>): Promise<number>;
}

interface ChainableScripts {
  golfRestoreRoom(...args: Array<string | number>): ChainableScripts;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}
