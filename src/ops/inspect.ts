/**
 * What golfctl reads about nodes and rooms: the nodes' heartbeats, the room hashes, snapshots
 * and connected-player sets in Redis, and the games rows and events in PostgreSQL.
 */
import type { GameState } from '../game/index.js';
import type { GameStatus } from '../stores/event-store.js';
import type { RoomMeta, SnapshotRecord } from '../stores/state-cache.js';
import type { OpsStores } from './stores.js';

/** A games row as golfctl reads it (with PostgreSQL's idea of how long ago it changed). */
export interface GameRow {
  game_id: string;
  room_code: string;
  status: GameStatus;
  epoch: number;
  last_seq: number;
  server_id: string | null;
  players: Array<{ id: string; name: string; is_cpu: boolean; total_score: number }>;
  created_at: Date;
  updated_at: Date;
  idle_seconds: number;
}

const UNFINISHED: GameStatus[] = ['lobby', 'playing'];

/**
 * Games within the room TTL: the unfinished ones, or those of the given statuses. Finished and
 * abandoned games older than the TTL are history, not rooms.
 */
export async function gameRows(stores: OpsStores, statuses: readonly GameStatus[] = UNFINISHED): Promise<GameRow[]> {
  const { sql } = stores.events;
  // A list goes as JSON: postgres.js sends sql.array() as plain text on a pool's very first
  // query (before it has fetched the array types), which PostgreSQL refuses.
  return sql<GameRow[]>`
    select game_id, room_code, status, epoch::int as epoch, last_seq, server_id, players, created_at, updated_at,
      extract(epoch from now() - updated_at)::float8 as idle_seconds
    from games
    where status in (select jsonb_array_elements_text(${sql.json(statuses as string[])}::jsonb))
      and updated_at > now() - make_interval(secs => ${stores.config.ROOM_TTL_SECONDS})
    order by room_code, created_at desc`;
}

export async function gameRow(stores: OpsStores, gameId: string): Promise<GameRow | null> {
  const { sql } = stores.events;
  const rows = await sql<GameRow[]>`
    select game_id, room_code, status, epoch::int as epoch, last_seq, server_id, players, created_at, updated_at,
      extract(epoch from now() - updated_at)::float8 as idle_seconds
    from games where game_id = ${gameId}`;
  return rows[0] ?? null;
}

/** A game named by its id, or by its room code (the code's current game, else its newest). */
export async function findGame(stores: OpsStores, ref: string): Promise<GameRow | null> {
  if (/^[A-Za-z]{4}$/.test(ref)) {
    const code = ref.toUpperCase();
    const meta = await stores.cache.getRoom(code);
    const latest = meta ? { game_id: meta.game_id } : await stores.events.findLatestByRoom(code);
    return latest ? gameRow(stores, latest.game_id) : null;
  }
  return gameRow(stores, ref);
}

/** The engine's state inside a persisted room snapshot. */
export function snapshotGame(record: SnapshotRecord): GameState {
  return (record.snapshot as { context: { game: GameState } }).context.game;
}

/** The room machine's state value inside a persisted snapshot ('lobby', 'playing', ...). */
export function snapshotValue(record: SnapshotRecord): string {
  return String((record.snapshot as { value?: unknown }).value ?? '');
}

export interface NodeRow {
  node: string;
  /** A heartbeat key exists for it. */
  alive: boolean;
  /** Since its last heartbeat (by this machine's clock), when alive. */
  heartbeat_age_ms: number | null;
  /** What is left of its heartbeat key's TTL, when alive. */
  heartbeat_ttl_ms: number | null;
  /** Unfinished games whose room hash (or, failing that, games row) names it. */
  rooms: number;
  /** Players connected to those rooms (the rooms' connected sets). */
  players: number;
}

/**
 * Every live node, and every dead one still named as the owner of an unfinished game (its rooms
 * wait for adoption).
 */
export async function listNodes(stores: OpsStores, now = Date.now()): Promise<NodeRow[]> {
  const [beats, rooms] = await Promise.all([stores.heartbeats(), listRooms(stores, {})]);
  const rows = new Map<string, NodeRow>();
  for (const [node, beat] of beats) rows.set(node, { node, alive: true, heartbeat_age_ms: Math.max(0, now - beat.at), heartbeat_ttl_ms: beat.ttl_ms, rooms: 0, players: 0 });
  for (const room of rooms) {
    if (!room.owner) continue;
    let row = rows.get(room.owner);
    if (!row) rows.set(room.owner, (row = { node: room.owner, alive: false, heartbeat_age_ms: null, heartbeat_ttl_ms: null, rooms: 0, players: 0 }));
    row.rooms++;
    row.players += room.connected;
  }
  return [...rows.values()].sort((a, b) => Number(b.alive) - Number(a.alive) || a.node.localeCompare(b.node));
}

export interface RoomRow {
  room: string;
  game_id: string;
  /** The node the room hash names (else the games row); null when hosted nowhere (idle). */
  owner: string | null;
  owner_alive: boolean;
  /** The games row's status: lobby, playing, finished, abandoned. */
  status: GameStatus;
  /** The engine's phase in the cached snapshot (null without one). */
  phase: string | null;
  round: number | null;
  players: number;
  humans: number;
  connected: number;
  seq: number;
  snapshot_seq: number | null;
  /** Seconds since the game's last appended event (PostgreSQL's clock). */
  last_move_age_s: number;
}

export interface RoomFilter {
  node?: string;
  /** Matches the games row's status or the snapshot's phase. */
  status?: string;
  idleOverSeconds?: number;
  /** Finished and abandoned games within the TTL too. */
  all?: boolean;
}

export async function listRooms(stores: OpsStores, filter: RoomFilter): Promise<RoomRow[]> {
  const statuses: GameStatus[] = filter.all || (filter.status && ['finished', 'abandoned'].includes(filter.status)) ? ['lobby', 'playing', 'finished', 'abandoned'] : UNFINISHED;
  const games = await gameRows(stores, statuses);
  const beats = await stores.heartbeats();
  const rows: RoomRow[] = [];
  for (let i = 0; i < games.length; i += 500) {
    const chunk = games.slice(i, i + 500);
    const pipeline = stores.redis.pipeline();
    for (const game of chunk) pipeline.hgetall(stores.keys.room(game.room_code)).scard(stores.keys.players(game.room_code));
    const [results, snapshots] = await Promise.all([pipeline.exec(), stores.cache.loadSnapshots(chunk.map((g) => g.game_id))]);
    chunk.forEach((game, j) => {
      const hash = (results?.[2 * j]?.[1] ?? {}) as Record<string, string>;
      // A room hash naming another game belongs to that game (the code was reused).
      const meta = hash.game_id === game.game_id ? hash : {};
      const connected = meta.game_id ? Number(results?.[2 * j + 1]?.[1] ?? 0) : 0;
      const snapshot = snapshots[j] ?? null;
      const state = snapshot ? snapshotGame(snapshot) : null;
      const owner = meta.server_id || game.server_id || null;
      rows.push({
        room: game.room_code,
        game_id: game.game_id,
        owner,
        owner_alive: owner !== null && beats.has(owner),
        status: game.status,
        phase: state?.phase ?? null,
        round: state?.round ?? null,
        players: game.players.length,
        humans: game.players.filter((p) => !p.is_cpu).length,
        connected,
        seq: game.last_seq,
        snapshot_seq: snapshot?.seq ?? null,
        last_move_age_s: Math.round(game.idle_seconds * 10) / 10,
      });
    });
  }
  return rows.filter(
    (r) =>
      (filter.node === undefined || r.owner === filter.node) &&
      (filter.status === undefined || r.status === filter.status || r.phase === filter.status) &&
      (filter.idleOverSeconds === undefined || r.last_move_age_s > filter.idleOverSeconds),
  );
}

export interface RoomDetail {
  room: string;
  game: GameRow;
  /** The Redis room hash, when it names this game, with its TTL. */
  redis: (RoomMeta & { ttl_seconds: number }) | null;
  snapshot: { seq: number; epoch: number; state: string; phase: string; round: number; behind_by: number } | null;
  lease: { held: boolean; ttl_ms: number | null; owner: string | null; owner_alive: boolean; owner_heartbeat_age_ms: number | null };
  players: Array<{ id: string; name: string; cpu: boolean; connected: boolean; total_score: number }>;
  /** Players with a live connection to the room (on any node), as its owner records them. */
  watchers: Array<{ id: string; name: string }>;
  events: Array<{ seq: number; type: string; player_id: string | null; player: string | null; at: Date }>;
  events_shown: { from: number; to: number; total: number };
}

/** Everything the stores hold about one room (its current game, or the game named). */
export async function roomDetail(stores: OpsStores, ref: string, lastEvents: number | 'all', now = Date.now()): Promise<RoomDetail | null> {
  const game = await findGame(stores, ref);
  if (!game) return null;
  const code = game.room_code;
  const [hash, ttl, snapshot, leaseTtl, connected, beats] = await Promise.all([
    stores.cache.getRoom(code),
    stores.redis.ttl(stores.keys.room(code)),
    stores.cache.loadSnapshot(game.game_id),
    stores.leaseTtl(code),
    stores.cache.connectedPlayers(code),
    stores.heartbeats(),
  ]);
  const meta = hash?.game_id === game.game_id ? hash : null;
  const after = lastEvents === 'all' ? 0 : Math.max(0, game.last_seq - lastEvents);
  const events = await stores.events.loadEvents(game.game_id, after);
  const state = snapshot ? snapshotGame(snapshot) : null;
  const names = new Map<string, string>();
  for (const p of game.players) names.set(p.id, p.name);
  for (const p of state?.players ?? []) names.set(p.id, p.name);
  const owner = meta?.server_id || game.server_id || null;
  const beat = owner ? beats.get(owner) : undefined;
  const live = meta ? new Set(connected) : new Set<string>();
  const players = (state?.players ?? game.players.map((p) => ({ ...p, cpu_profile: null }))).map((p) => ({
    id: p.id,
    name: p.name,
    cpu: p.is_cpu,
    connected: live.has(p.id),
    total_score: p.total_score,
  }));
  return {
    room: code,
    game,
    redis: meta ? { ...meta, ttl_seconds: ttl } : null,
    snapshot:
      snapshot && state
        ? { seq: snapshot.seq, epoch: snapshot.epoch, state: snapshotValue(snapshot), phase: state.phase, round: state.round, behind_by: game.last_seq - snapshot.seq }
        : null,
    lease: { held: leaseTtl !== null, ttl_ms: leaseTtl, owner, owner_alive: beat !== undefined, owner_heartbeat_age_ms: beat ? Math.max(0, now - beat.at) : null },
    players,
    watchers: [...live].map((id) => ({ id, name: names.get(id) ?? '?' })).sort((a, b) => a.name.localeCompare(b.name)),
    events: events.map((e) => ({ seq: e.seq, type: e.type, player_id: e.player_id, player: e.player_id ? (names.get(e.player_id) ?? null) : null, at: e.created_at })),
    events_shown: { from: events[0]?.seq ?? 0, to: events.at(-1)?.seq ?? 0, total: game.last_seq },
  };
}
