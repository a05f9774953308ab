/**
 * Consistency check of every unfinished game across PostgreSQL and Redis: its events have no
 * gaps and replay to its live snapshot, its owner is alive and holds its lease, and its room
 * code resolves to it.
 */
import type { EventRecord } from '../stores/event-store.js';
import { gameRows, snapshotGame, type GameRow } from './inspect.js';
import { compare } from './replay.js';
import type { OpsStores } from './stores.js';

export type Check = 'events' | 'replay' | 'snapshot' | 'owner' | 'lease' | 'index';

export interface Finding {
  room: string;
  game_id: string;
  check: Check;
  /** problem: the stores disagree or a room is stuck; warning: allowed, but worth knowing. */
  severity: 'problem' | 'warning';
  message: string;
}

export interface FsckReport {
  games: number;
  problems: number;
  warnings: number;
  findings: Finding[];
}

export async function fsck(stores: OpsStores, options: { all?: boolean; batch?: number } = {}): Promise<FsckReport> {
  const listed = await gameRows(stores, options.all ? ['lobby', 'playing', 'finished'] : ['lobby', 'playing']);
  const findings: Finding[] = [];
  const size = options.batch ?? 200;
  for (let i = 0; i < listed.length; i += size) findings.push(...(await checkBatch(stores, listed.slice(i, i + size))));
  const problems = findings.filter((f) => f.severity === 'problem').length;
  return { games: listed.length, problems, warnings: findings.length - problems, findings };
}

async function checkBatch(stores: OpsStores, listed: GameRow[]): Promise<Finding[]> {
  const { redis, keys, cache, events } = stores;
  // Redis first, PostgreSQL after: the events and rows read next are at least as new as any
  // snapshot read now (an append commits before its snapshot is written).
  const pipeline = redis.pipeline();
  for (const g of listed) pipeline.hgetall(keys.room(g.room_code)).pttl(keys.lease(g.room_code));
  const [results, snapshots, beats] = await Promise.all([pipeline.exec(), cache.loadSnapshots(listed.map((g) => g.game_id)), stores.heartbeats()]);
  const rows = new Map(
    (
      await events.sql<GameRow[]>`
        select game_id, room_code, status, epoch::int as epoch, last_seq, server_id, players, created_at, updated_at, 0::float8 as idle_seconds
        from games where game_id in (select jsonb_array_elements_text(${events.sql.json(listed.map((g) => g.game_id))}::jsonb))`
    ).map((row) => [row.game_id, row]),
  );
  const loaded = await events.loadEventsOf(listed.map((g) => ({ game_id: g.game_id, after_seq: 0 })));
  const out: Finding[] = [];
  listed.forEach((listedRow, i) => {
    const game = rows.get(listedRow.game_id);
    const note = (check: Check, severity: Finding['severity'], message: string) => out.push({ room: listedRow.room_code, game_id: listedRow.game_id, check, severity, message });
    if (!game) return note('events', 'problem', 'the games row vanished during the check');
    const hash = (results?.[2 * i]?.[1] ?? {}) as Record<string, string>;
    const leaseTtl = Number(results?.[2 * i + 1]?.[1] ?? -2);
    const snapshot = snapshots[i] ?? null;
    const list: EventRecord[] = loaded.get(game.game_id) ?? [];
    const finished = game.status === 'finished';

    // Events: 1..last_seq, each once (the primary key forbids doubles; gaps it cannot see).
    const missing: number[] = [];
    let expected = 1;
    for (const e of list) {
      for (; expected < e.seq && missing.length < 10; expected++) missing.push(expected);
      expected = e.seq + 1;
    }
    for (; expected <= game.last_seq && missing.length < 10; expected++) missing.push(expected);
    if (missing.length > 0) note('events', 'problem', `events missing: ${missing.join(', ')}${missing.length === 10 ? ', …' : ''} (last_seq ${game.last_seq}, ${list.length} stored)`);
    const last = list.at(-1)?.seq ?? 0;
    if (last < game.last_seq) note('events', 'problem', `the games row says last_seq ${game.last_seq} but the events end at ${last}`);

    // Replay, and the snapshot against it.
    const result = compare(list, snapshot);
    if (result.fold.error && missing.length === 0) note('replay', 'problem', result.fold.error);
    if (!snapshot) {
      if (!finished) note('snapshot', 'warning', 'no snapshot in Redis (the next owner restores from the events alone)');
    } else {
      if (snapshot.seq > game.last_seq) note('snapshot', 'problem', `snapshot at sequence ${snapshot.seq} is ahead of the events (last_seq ${game.last_seq})`);
      else if (result.equal === false) note('snapshot', 'problem', `snapshot at sequence ${snapshot.seq} differs from the replay: ${result.differences.join('; ')}`);
      if (snapshot.epoch > game.epoch) note('snapshot', 'problem', `snapshot epoch ${snapshot.epoch} is newer than the epoch in PostgreSQL (${game.epoch})`);
      if (snapshot.seq < game.last_seq && !finished && !game.server_id) {
        // Write-behind trails a hosted room by a few moves; an idle room was flushed when it left memory.
        note('snapshot', 'warning', `snapshot of an idle room is ${game.last_seq - snapshot.seq} events behind`);
      }
      const state = snapshotGame(snapshot);
      if (state.game_id && state.game_id !== game.game_id) note('snapshot', 'problem', `the snapshot under this game id is of game ${state.game_id}`);
    }

    // The room code resolves to this game (unless it is over: then the code may be reused).
    if (!finished) {
      if (!hash.game_id) note('index', 'problem', 'no room hash in Redis: the room code resolves to nothing until the index is rebuilt');
      else if (hash.game_id !== game.game_id) note('index', 'problem', `the room hash names another game (${hash.game_id})`);
    }

    // Ownership: a hosted room's node is alive and holds the lease; an idle room is hosted nowhere.
    if (!finished) {
      const owner = game.server_id;
      const routed = hash.game_id === game.game_id ? hash.server_id || null : null;
      if (owner) {
        if (!beats.has(owner)) note('owner', 'problem', `its owner ${owner} has no heartbeat: the room waits for adoption`);
        else if (leaseTtl < 0) note('lease', 'problem', `its owner ${owner} is alive but nobody holds the lease`);
        if (routed && routed !== owner) note('owner', 'warning', `Redis routes to ${routed} but PostgreSQL names ${owner} (a move in progress?)`);
      } else if (leaseTtl >= 0) note('lease', 'warning', 'the lease is held but no node is recorded as the owner (an activation in progress?)');
    }
  });
  return out;
}
