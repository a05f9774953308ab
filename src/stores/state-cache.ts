/**
 * The live-state cache (DESIGN.md "Redis keys"): room hashes, persisted room snapshots,
 * connected players, the active-room set and each player's current room. One interface, two
 * implementations (Redis for a cluster, memory for the embedded single node), one contract
 * test suite.
 */
import { parseSnapshotJson, snapshotJson } from './snapshot-json.js';

export interface RoomMeta {
  game_id: string;
  host_id: string;
  created_at: string;
  status: string;
  server_id: string;
  epoch: number;
}

/** A persisted room snapshot, with the sequence and owner epoch it was taken at. */
export interface SnapshotRecord {
  seq: number;
  epoch: number;
  snapshot: unknown;
}

/** A room hash to put back into a cache that lost it (see StateCache.restoreRooms). */
export interface RestoredRoom {
  code: string;
  meta: Partial<RoomMeta> & { game_id: string };
  /** Seconds the hash lives (what is left of the room's TTL). */
  ttlSeconds: number;
  /** Listed in the active set (an unfinished game). */
  active: boolean;
}

/**
 * What a node's heartbeat says: `live` (renewed within its TTL), `gone` (it announced that it
 * left: drained), or `missing` (no heartbeat: it died, or Redis lost its data and the node has
 * not written it again yet; only time, as each node sees it, tells the two apart).
 */
export type NodeState = 'live' | 'gone' | 'missing';

/** The owner a room hash names, with the epoch it took (see StateCache.claimRoom). */
export interface RoomOwner {
  server_id: string;
  epoch: number;
}

/** The room hash fields anyone may write; the owner fields go through claimRoom and releaseRoom. */
export type RoomFields = Partial<Omit<RoomMeta, 'server_id' | 'epoch'>>;

export interface StateCache {
  /** How long a room's keys live untouched (ROOM_TTL_SECONDS). */
  readonly ttlSeconds: number;
  /** Creates a room only if the code is free (atomic); adds it to the active set. */
  createRoom(code: string, meta: RoomMeta): Promise<boolean>;
  getRoom(code: string): Promise<RoomMeta | null>;
  /**
   * Puts back room hashes the cache lost (the room index rebuilt from PostgreSQL), never over
   * newer data: a hash naming another game is left alone, and in one naming the same game only
   * missing fields are set. Returns how many hashes were created.
   */
  restoreRooms(rooms: readonly RestoredRoom[]): Promise<number>;
  /**
   * Points the room at a new game ("play again" at the same table) if it still names `oldGameId`,
   * or creates it if it expired meanwhile. False when it names another game (left alone).
   */
  replaceRoom(code: string, oldGameId: string, meta: RoomMeta): Promise<boolean>;
  /** Deletes a room hash if it still names this game (a creation that did not go through). */
  removeRoom(code: string, gameId: string): Promise<void>;
  /** Whether the room index is whole: its marker is written after a rebuild, and a flush loses it. */
  indexBuilt(): Promise<boolean>;
  /**
   * A room hash and whether the index is whole, read together (atomically): a miss is
   * believed only if the index was whole when the room was looked for, not if a rebuild marked
   * it whole just after.
   */
  lookupRoom(code: string): Promise<{ meta: RoomMeta | null; indexed: boolean }>;
  /**
   * Starts a rebuild of the room index: returns its token (kept in the cache). The marker is
   * written only with the token of a rebuild whose start the cache still holds (see markIndexBuilt).
   */
  beginIndexBuild(by: string): Promise<string>;
  /**
   * Marks the room index whole, if the cache still holds this rebuild's start: a cache that
   * lost its data (or another rebuild that started since) in the meantime is not marked, since
   * the rooms put back may be gone. True if marked.
   */
  markIndexBuilt(by: string, token: string): Promise<boolean>;
  /** Sets fields of an existing room (never its owner: see claimRoom); a missing room stays missing. */
  updateRoom(code: string, fields: RoomFields): Promise<void>;
  /**
   * Records `owner` as the room's owner (and `fields` with it), unless the hash already names a
   * newer epoch: an owner that was fenced never hides the one that fenced it. False when not
   * written (a newer owner, or no such room). `force` writes over a newer epoch: only for a
   * record PostgreSQL (the truth about epochs) shows to be wrong.
   */
  claimRoom(code: string, owner: RoomOwner, fields?: RoomFields, force?: boolean): Promise<boolean>;
  /**
   * Clears the room's owner if the hash still names `owner` at its epoch or an older one (a room
   * this node let go idle): a newer owner's record is left alone. False when not cleared.
   */
  releaseRoom(code: string, owner: RoomOwner): Promise<boolean>;
  /**
   * Writes a room's snapshot unless the stored one is as new or newer (by epoch, then
   * sequence), and refreshes its TTL and (unless `refreshTtls` is false: the writer does it
   * once a minute, not on every move) the TTL of every key of the room and its players.
   */
  saveSnapshot(code: string, gameId: string, record: SnapshotRecord, playerIds: readonly string[], refreshTtls?: boolean): Promise<boolean>;
  loadSnapshot(gameId: string): Promise<SnapshotRecord | null>;
  loadSnapshots(gameIds: readonly string[]): Promise<Array<SnapshotRecord | null>>;
  setConnected(code: string, playerId: string, connected: boolean): Promise<void>;
  connectedPlayers(code: string): Promise<string[]>;
  setPlayerRoom(playerId: string, code: string): Promise<void>;
  getPlayerRoom(playerId: string): Promise<string | null>;
  activeRooms(): Promise<string[]>;
  /** Takes a room out of the active set (its game ended); its keys expire on their own. */
  deactivate(code: string): Promise<void>;
  /** Takes the rooms whose keys expired (abandoned) out of the active set; returns how many. */
  pruneActive(): Promise<number>;
  /**
   * Which of these rooms' leases are held (by anyone). Leases are taken through Leases; this
   * only looks, to tell a lease another node holds from an attempt that failed.
   */
  leasesHeld(codes: readonly string[]): Promise<Set<string>>;
  /**
   * Marks a node alive for `ttlMs` (renewed well before it lapses). With `keepGone`, a `gone`
   * mark a peer wrote (it took this node for dead) is left as it is and 'gone' is answered: a
   * node that cannot hear the bus must not declare itself alive again (see Lifecycle.heartbeat).
   */
  heartbeat(nodeId: string, ttlMs: number, keepGone?: boolean): Promise<'live' | 'gone'>;
  /**
   * Marks a node gone at once (it drained: its rooms may be adopted now). Unlike a heartbeat
   * that is missing, this is news: peers need not wait to be sure.
   */
  forgetNode(nodeId: string): Promise<void>;
  /** Which of these nodes have a live heartbeat. */
  liveNodes(nodeIds: readonly string[]): Promise<Set<string>>;
  /** What each of these nodes' heartbeat says (see NodeState). */
  nodeStates(nodeIds: readonly string[]): Promise<Map<string, NodeState>>;
  /**
   * Each of these nodes' heartbeat mark as written (null: none), in one round trip: a mark that
   * stopped changing tells of a node that stopped renewing (see runtime/failure-detector.ts).
   */
  heartbeatMarks(nodeIds: readonly string[]): Promise<Map<string, string | null>>;
  close(): Promise<void>;
}

export interface KeyNames {
  room(code: string): string;
  lease(code: string): string;
  players(code: string): string;
  game(gameId: string): string;
  active(): string;
  playerRoom(playerId: string): string;
  node(nodeId: string): string;
  indexed(): string;
  indexing(): string;
}

export function keyNames(prefix: string): KeyNames {
  return {
    room: (code) => `${prefix}room:${code}`,
    lease: (code) => `${prefix}room:${code}:lease`,
    players: (code) => `${prefix}room:${code}:players`,
    game: (gameId) => `${prefix}game:${gameId}`,
    active: () => `${prefix}rooms:active`,
    playerRoom: (playerId) => `${prefix}player:${playerId}:room`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    indexed: () => `${prefix}rooms:indexed`,
    indexing: () => `${prefix}rooms:indexing`,
  };
}

/**
 * Serialises a snapshot record with `seq` and `epoch` first, so the Redis script can compare
 * them without decoding the whole document.
 */
export function encodeSnapshot(record: SnapshotRecord): string {
  return `{"seq":${record.seq},"epoch":${record.epoch},"snapshot":${snapshotJson(record.snapshot)}}`;
}

export function decodeSnapshot(text: string | null): SnapshotRecord | null {
  if (!text) return null;
  return parseSnapshotJson(text) as SnapshotRecord;
}

export function isNewer(next: Pick<SnapshotRecord, 'seq' | 'epoch'>, current: Pick<SnapshotRecord, 'seq' | 'epoch'> | null): boolean {
  if (!current) return true;
  return next.epoch > current.epoch || (next.epoch === current.epoch && next.seq > current.seq);
}

/** How long a drained node's "gone" mark stays (a node restarted under that id overwrites it). */
export const GONE_MARK_MS = 10 * 60_000;
export const GONE_MARK = 'gone';

export function metaToHash(meta: Partial<RoomMeta>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) if (value !== undefined) out[key] = String(value);
  return out;
}

export function hashToMeta(hash: Record<string, string>): RoomMeta | null {
  if (!hash.game_id) return null;
  return {
    game_id: hash.game_id,
    host_id: hash.host_id ?? '',
    created_at: hash.created_at ?? '',
    status: hash.status ?? '',
    server_id: hash.server_id ?? '',
    epoch: Number(hash.epoch ?? 0),
  };
}
