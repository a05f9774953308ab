import postgres from 'postgres';
import type { GameEvent } from '../game/index.js';

/** One stored event: a domain event with its place in the game and who caused it. */
export interface EventRecord {
  game_id: string;
  seq: number;
  type: GameEvent['type'];
  player_id: string | null;
  command_id: string | null;
  /** Who sent the command (its id is theirs); null for timers and for rows older than the column. */
  sender_id: string | null;
  /** The fingerprint of the command under `command_id` (see the room machine). */
  command_fp: string | null;
  data: unknown;
  created_at: Date;
}

/**
 * `lobby` and `playing` are unfinished (a room code names at most one such game); `finished`
 * ended by the rules; `abandoned` was given up unfinished (idle past ROOM_TTL_SECONDS, or a
 * duplicate of its room code settled by a migration) and never takes an event again.
 */
export type GameStatus = 'lobby' | 'playing' | 'finished' | 'abandoned';

/** SQL for "the game can still be played" (the predicate of the partial indexes below). */
const UNFINISHED = `status in ('lobby', 'playing')`;

/** A game's events to append, fenced by the owner's epoch and the sequence it expects. */
export interface AppendRequest {
  game_id: string;
  epoch: number;
  /** The game's last sequence number before these events (the append is refused otherwise). */
  expected_seq: number;
  events: Array<{ type: string; player_id: string | null; command_id: string | null; sender_id: string | null; command_fp: string | null; data: unknown }>;
  at: Date;
  /** The games row's summary after these events (queryable without replaying). */
  summary: { status: GameStatus; options: unknown; players: unknown; winner_ids: string[] };
}

export interface NewGame {
  game_id: string;
  room_code: string;
  epoch: number;
  server_id: string;
  options: unknown;
}

export interface ActiveGame {
  game_id: string;
  room_code: string;
  last_seq: number;
  epoch: number;
  status: GameStatus;
  /** The node that last took the game's epoch; null once it let the room go idle. */
  server_id: string | null;
}

/**
 * A game's epoch as this node just took it, with the game's last sequence and status read in
 * the same statement: from that moment appends at older epochs are refused, so this sequence is
 * final (anything the old owner commits after it is fenced; anything it committed before is in it).
 */
export interface EpochClaim {
  epoch: number;
  last_seq: number;
  status: GameStatus;
}

/** A game as the room index records it (see indexableGames). */
export interface IndexedGame {
  game_id: string;
  room_code: string;
  status: GameStatus;
  epoch: number;
  server_id: string;
  created_at: Date;
  /** Seconds until the game has been idle for the index's TTL. */
  ttl_seconds: number;
}

/** The store could not be reached, or refused for a reason other than fencing. */
export class EventStoreUnavailable extends Error {
  override name = 'EventStoreUnavailable';
}

/**
 * PostgreSQL refused the data itself (SQLSTATE class 22: a NUL or a lone surrogate in a
 * string, a value out of range): trying again will not help, and in a batch it is one
 * request's fault, not everyone's.
 */
export class EventDataRejected extends Error {
  override name = 'EventDataRejected';
}

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      create table if not exists games (
        game_id text primary key,
        room_code text not null,
        status text not null default 'lobby',
        options jsonb not null default '{}',
        players jsonb not null default '[]',
        winner_ids jsonb not null default '[]',
        epoch bigint not null default 0,
        last_seq integer not null default 0,
        server_id text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        ended_at timestamptz
      );
      create index if not exists games_unfinished on games (updated_at) where status <> 'finished';
      create index if not exists games_room_code on games (room_code);
      create table if not exists events (
        game_id text not null references games (game_id),
        seq integer not null,
        type text not null,
        player_id text,
        command_id text,
        data jsonb not null,
        created_at timestamptz not null default now(),
        primary key (game_id, seq)
      );
      create index if not exists events_type on events (type);
    `,
  },
  {
    // One unfinished game per room code, enforced here rather than only by the Redis room hash
    // (which a flush can lose). Duplicates an older version left are settled first: for each
    // code the newest unfinished game keeps it, the others are abandoned.
    version: 2,
    sql: `
      update games g set status = 'abandoned', ended_at = coalesce(g.ended_at, now())
      where g.${UNFINISHED} and exists (
        select 1 from games n
        where n.room_code = g.room_code and n.${UNFINISHED} and (n.created_at, n.game_id) > (g.created_at, g.game_id));
      drop index if exists games_unfinished;
      create index games_unfinished on games (updated_at) where ${UNFINISHED};
      create unique index if not exists games_room_code_live on games (room_code) where ${UNFINISHED};
    `,
  },
  {
    // At-most-once survives a restore from events: who sent each command id, and what it was.
    version: 3,
    sql: `
      alter table events add column if not exists sender_id text;
      alter table events add column if not exists command_fp text;
    `,
  },
];

export interface EventStoreOptions {
  /** A PostgreSQL schema to live in (tests isolate themselves this way); created if absent. */
  schema?: string;
  /** Pool size. */
  max?: number;
  onNotice?: (notice: unknown) => void;
}

/**
 * The event store on PostgreSQL (postgres.js). The `events` table is append-only with a unique
 * (game, sequence); `games` holds one row per game with its fencing epoch and last sequence.
 */
export class PgEventStore {
  readonly sql: postgres.Sql;
  private readonly schema: string;

  constructor(url: string, options: EventStoreOptions = {}) {
    this.schema = options.schema ?? 'public';
    this.sql = postgres(url, {
      max: options.max ?? 10,
      idle_timeout: 30,
      connect_timeout: 5,
      onnotice: options.onNotice ?? (() => {}),
      connection: { search_path: this.schema, application_name: 'golf-runtime' },
      transform: { undefined: null },
    });
  }

  /** Applies pending migrations; serialised across nodes by an advisory lock. */
  async migrate(): Promise<void> {
    await this.wrap(async () => {
      await this.sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext('golf-runtime-migrations'))`;
        await tx.unsafe(`create schema if not exists "${this.schema.replace(/"/g, '""')}"`);
        await tx`create table if not exists schema_migrations (version integer primary key, applied_at timestamptz not null default now())`;
        const done = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map((row) => row.version));
        for (const migration of MIGRATIONS) {
          if (done.has(migration.version)) continue;
          await tx.unsafe(migration.sql);
          await tx`insert into schema_migrations (version) values (${migration.version})`;
        }
      });
    });
  }

  /**
   * Records a new game; false when its room code already names an unfinished game (the unique
   * index `games_room_code_live`): the caller picks another code.
   */
  async createGame(game: NewGame): Promise<boolean> {
    const rows = await this.wrap(
      () => this.sql`
        insert into games (game_id, room_code, epoch, server_id, options)
        values (${game.game_id}, ${game.room_code}, ${game.epoch}, ${game.server_id}, ${this.sql.json(game.options as postgres.JSONValue)})
        on conflict do nothing
        returning game_id`,
    );
    return rows.length === 1;
  }

  /**
   * Takes the next fencing epoch for a game: every acquisition increments it, and appends
   * with an older epoch are refused from then on. The game's last sequence comes back with it
   * (see EpochClaim): a room is restored to that, never to a sequence read before the claim.
   */
  async claimEpoch(gameId: string, serverId: string): Promise<EpochClaim> {
    const claims = await this.claimEpochs([gameId], serverId);
    const claim = claims.get(gameId);
    if (!claim) throw new EventStoreUnavailable(`no game ${gameId}`);
    return claim;
  }

  /**
   * Appends the events of many games in one statement (one round trip, one transaction).
   * For each game, the append happens only if its epoch is not older than the stored one and
   * its expected sequence is the stored last one. Returns the ids of the games appended;
   * the others were fenced (a newer owner, or a sequence that moved on).
   */
  async appendBatch(requests: readonly AppendRequest[]): Promise<Set<string>> {
    if (requests.length === 0) return new Set();
    const games = requests.map((r) => ({
      game_id: r.game_id,
      epoch: r.epoch,
      expected: r.expected_seq,
      new_seq: r.expected_seq + r.events.length,
      status: r.summary.status,
      options: r.summary.options,
      players: r.summary.players,
      winner_ids: r.summary.winner_ids,
    }));
    const events = requests.flatMap((r) =>
      r.events.map((e, i) => ({
        game_id: r.game_id,
        seq: r.expected_seq + i + 1,
        type: e.type,
        player_id: e.player_id,
        command_id: e.command_id,
        sender_id: e.sender_id,
        command_fp: e.command_fp,
        data: e.data,
        created_at: r.at.toISOString(),
      })),
    );
    const rows = await this.wrap(
      () => this.sql<{ game_id: string }[]>`
        with batch as (
          select * from jsonb_to_recordset(${this.sql.json(games as postgres.JSONValue)}::jsonb) as b(
            game_id text, epoch bigint, expected integer, new_seq integer, status text,
            options jsonb, players jsonb, winner_ids jsonb)
        ), passed as (
          update games g set
            last_seq = b.new_seq, epoch = b.epoch, status = b.status, options = b.options,
            players = b.players, winner_ids = b.winner_ids, updated_at = now(),
            ended_at = case when b.status = 'finished' then now() else g.ended_at end
          from batch b
          where g.game_id = b.game_id and g.epoch <= b.epoch and g.last_seq = b.expected and g.status <> 'abandoned'
          returning g.game_id
        )
        insert into events (game_id, seq, type, player_id, command_id, sender_id, command_fp, data, created_at)
        select e.game_id, e.seq, e.type, e.player_id, e.command_id, e.sender_id, e.command_fp, e.data, e.created_at
        from jsonb_to_recordset(${this.sql.json(events as postgres.JSONValue)}::jsonb) as e(
          game_id text, seq integer, type text, player_id text, command_id text, sender_id text, command_fp text, data jsonb, created_at timestamptz)
        where e.game_id in (select game_id from passed)
        returning game_id`,
    );
    return new Set(rows.map((row) => row.game_id));
  }

  async loadEvents(gameId: string, afterSeq = 0): Promise<EventRecord[]> {
    return this.wrap(
      () => this.sql<EventRecord[]>`
        select game_id, seq, type, player_id, command_id, sender_id, command_fp, data, created_at from events
        where game_id = ${gameId} and seq > ${afterSeq} order by seq`,
    );
  }

  /** Events of many games after a sequence each, in one query (recovery). */
  async loadEventsOf(from: ReadonlyArray<{ game_id: string; after_seq: number }>): Promise<Map<string, EventRecord[]>> {
    const out = new Map<string, EventRecord[]>();
    if (from.length === 0) return out;
    const rows = await this.wrap(
      () => this.sql<EventRecord[]>`
        select e.game_id, e.seq, e.type, e.player_id, e.command_id, e.sender_id, e.command_fp, e.data, e.created_at
        from events e
        join jsonb_to_recordset(${this.sql.json(from as unknown as postgres.JSONValue)}::jsonb) as f(game_id text, after_seq integer)
          on e.game_id = f.game_id and e.seq > f.after_seq
        order by e.game_id, e.seq`,
    );
    for (const row of rows) {
      let list = out.get(row.game_id);
      if (!list) out.set(row.game_id, (list = []));
      list.push(row);
    }
    return out;
  }

  /** A game, with how long ago it last changed (by PostgreSQL's clock). */
  async getGame(gameId: string): Promise<(ActiveGame & { idle_seconds: number }) | null> {
    const rows = await this.wrap(
      () => this.sql<Array<ActiveGame & { idle_seconds: number }>>`
        select game_id, room_code, last_seq, epoch::int as epoch, status, server_id,
          extract(epoch from now() - updated_at)::float8 as idle_seconds
        from games where game_id = ${gameId}`,
    );
    return rows[0] ?? null;
  }

  /**
   * The game with this room code: the newest unfinished one, else the newest ended one. For
   * operators' tools only: players' lookups go through the Redis room index, so that a guessed
   * code costs PostgreSQL nothing.
   */
  async findLatestByRoom(roomCode: string): Promise<ActiveGame | null> {
    const rows = await this.wrap(
      () => this.sql<ActiveGame[]>`
        select game_id, room_code, last_seq, epoch::int as epoch, status, server_id from games
        where room_code = ${roomCode} order by (${this.sql.unsafe(UNFINISHED)}) desc, created_at desc limit 1`,
    );
    return rows[0] ?? null;
  }

  /**
   * What the room index holds (room-index.ts): for each room code, its unfinished game, else
   * its newest finished one, among the games active within `withinSeconds`; with the seconds
   * left until it is that old.
   */
  async indexableGames(withinSeconds: number): Promise<IndexedGame[]> {
    return this.wrap(
      () => this.sql<IndexedGame[]>`
        select distinct on (room_code) game_id, room_code, status, epoch::int as epoch, coalesce(server_id, '') as server_id,
          created_at, greatest(1, ceil(extract(epoch from updated_at + make_interval(secs => ${withinSeconds}) - now())))::int as ttl_seconds
        from games
        where status in ('lobby', 'playing', 'finished') and updated_at > now() - make_interval(secs => ${withinSeconds})
        order by room_code, (status <> 'finished') desc, created_at desc`,
    );
  }

  /**
   * Gives up the unfinished games idle for longer than `seconds` (their rooms expired): they
   * no longer hold their room code, are not recovered, and take no more events.
   */
  async abandonIdle(seconds: number): Promise<number> {
    const rows = await this.wrap(
      () => this.sql`
        update games set status = 'abandoned', ended_at = now(), server_id = null
        where ${this.sql.unsafe(UNFINISHED)} and updated_at < now() - make_interval(secs => ${seconds})
        returning game_id`,
    );
    return rows.length;
  }

  /**
   * Takes the next epoch of many games at once (recovery). Returns each game's new epoch with
   * its last sequence and status as of that moment (see EpochClaim). An append that committed
   * first is counted in; one that comes after finds the newer epoch and is refused: both update
   * the same row, so PostgreSQL orders them.
   */
  async claimEpochs(gameIds: readonly string[], serverId: string): Promise<Map<string, EpochClaim>> {
    if (gameIds.length === 0) return new Map();
    const rows = await this.wrap(
      () => this.sql<{ game_id: string; epoch: string; last_seq: number; status: GameStatus }[]>`
        update games set epoch = epoch + 1, server_id = ${serverId}
        where game_id = any(${this.sql.array(gameIds as string[])}::text[]) returning game_id, epoch, last_seq, status`,
    );
    return new Map(rows.map((row) => [row.game_id, { epoch: Number(row.epoch), last_seq: row.last_seq, status: row.status }]));
  }

  /**
   * Every game that has not ended and was active within `withinSeconds` (older ones were
   * abandoned: their rooms expired from the cache long ago).
   */
  async activeGames(withinSeconds: number): Promise<ActiveGame[]> {
    return this.wrap(
      () => this.sql<ActiveGame[]>`
        select game_id, room_code, last_seq, epoch::int as epoch, status, server_id from games
        where ${this.sql.unsafe(UNFINISHED)} and updated_at > now() - make_interval(secs => ${withinSeconds})
        order by room_code, created_at desc`,
    );
  }

  /** The nodes recorded as hosting unfinished games (to check their heartbeats). */
  async hostingNodes(withinSeconds: number): Promise<string[]> {
    const rows = await this.wrap(
      () => this.sql<{ server_id: string }[]>`
        select distinct server_id from games
        where ${this.sql.unsafe(UNFINISHED)} and server_id is not null and updated_at > now() - make_interval(secs => ${withinSeconds})`,
    );
    return rows.map((row) => row.server_id);
  }

  /** Unfinished games recorded as hosted by these nodes. */
  async gamesHostedBy(serverIds: readonly string[], withinSeconds: number): Promise<ActiveGame[]> {
    if (serverIds.length === 0) return [];
    return this.wrap(
      () => this.sql<ActiveGame[]>`
        select game_id, room_code, last_seq, epoch::int as epoch, status, server_id from games
        where ${this.sql.unsafe(UNFINISHED)} and server_id = any(${this.sql.array(serverIds as string[])}::text[])
          and updated_at > now() - make_interval(secs => ${withinSeconds})
        order by room_code, created_at desc`,
    );
  }

  /**
   * Records that a node let a game go (passivated it, or cannot restore it): nobody needs to
   * adopt it; it is activated again on demand. Only while the row still names that node (and,
   * with `epoch`, still at that epoch: a claim since then stays as it is). True if released.
   */
  async releaseGame(gameId: string, serverId: string, epoch?: number): Promise<boolean> {
    const rows = await this.wrap(
      () => this.sql`
        update games set server_id = null
        where game_id = ${gameId} and server_id = ${serverId} ${epoch === undefined ? this.sql`` : this.sql`and epoch = ${epoch}`}
        returning game_id`,
    );
    return rows.length === 1;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private async wrap<T>(run: () => Promise<T> | postgres.PendingQuery<postgres.Row[]>): Promise<T> {
    try {
      return (await run()) as T;
    } catch (error) {
      const err = error as { code?: string; message?: string };
      if (err.code && /^(23|42)/.test(err.code)) throw error; // constraint or SQL errors are bugs, not outages
      if (err.code && /^22/.test(err.code)) throw new EventDataRejected(`PostgreSQL refused the data: ${err.message ?? err.code}`);
      throw new EventStoreUnavailable(`PostgreSQL unavailable: ${err.message ?? String(error)}`);
    }
  }
}
