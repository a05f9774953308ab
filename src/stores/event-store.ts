import { connect, type Socket } from 'node:net';
import postgres from 'postgres';
import { MIGRATIONS, UNFINISHED } from './migrations.js';
import { PgReachability } from './pg-reachability.js';
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


/** A game's events to append, fenced by the owner's epoch and the sequence it expects. */
export interface AppendRequest {
  game_id: string;
  epoch: number;
  /** The game's last sequence number before these events (the append is refused otherwise). */
  expected_seq: number;
  events: Array<{ type: string; player_id: string | null; command_id: string | null; sender_id: string | null; command_fp: string | null; data: unknown }>;
  at: Date;
  /**
   * The games row's summary after these events (queryable without replaying). `options`,
   * `players` and `winner_ids` may be left out (null) when they are what the row already holds:
   * most moves change none of them, and not rewriting them keeps the update small.
   */
  summary: { status: GameStatus; options: unknown; players: unknown; winner_ids: string[] | null; replay_id?: string | null };
}

/** A finished game as its replay shows it (see `finishedByReplayId`). */
export interface FinishedGame {
  game_id: string;
  room_code: string;
  ended_at: Date | null;
  events: EventRecord[];
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

/**
 * The store could not be reached, or refused for a reason other than fencing. Nothing was
 * written: the statement never reached PostgreSQL, or PostgreSQL answered that it failed.
 */
export class EventStoreUnavailable extends Error {
  override name = 'EventStoreUnavailable';
}

/**
 * The statement was sent but no answer came back (it timed out, or the connection dropped
 * before the reply): it may or may not have been committed. Only PostgreSQL knows; whoever
 * acted on a guess must read the truth back from it (a room re-activates from its events).
 */
export class EventStoreInDoubt extends EventStoreUnavailable {
  override name = 'EventStoreInDoubt';
}

/**
 * PostgreSQL refused the data itself (SQLSTATE class 22: a NUL or a lone surrogate in a
 * string, a value out of range): trying again will not help, and in a batch it is one
 * request's fault, not everyone's.
 */
export class EventDataRejected extends Error {
  override name = 'EventDataRejected';
}


export interface EventStoreOptions {
  /** A PostgreSQL schema to live in (tests isolate themselves this way); created if absent. */
  schema?: string;
  /** Pool size. */
  max?: number;
  /** Bound on every call, in ms (PG_QUERY_TIMEOUT_MS): see `wrap`. */
  queryTimeoutMs?: number;
  onNotice?: (notice: unknown) => void;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 3000;

/** The share of PG_QUERY_TIMEOUT_MS the server's statement_timeout takes (see the constructor). */
const STATEMENT_SHARE = 0.8;

/** What the store watches of a socket of its pool. */
interface SocketWatch {
  opened: number;
  /** Since when it waits for a reply: written to with nothing read since; null when not. */
  waitingSince: number | null;
}

/** How long past its bound a call still being connected waits for connect_timeout's verdict. */
const CONNECT_GRACE_MS = 500;

/** How often PostgreSQL is probed while it does not answer, and the bound on one probe (see PgReachability). */
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 1000;

/** Migrations wait for each other (an advisory lock) while several nodes start at once. */
const MIGRATION_TIMEOUT_MS = 60_000;

/**
 * Delay before a connection that failed is made again, in seconds, by failures in a row.
 * postgres.js's default grows to 20 s, so that a room could stay unplayable for that long
 * after PostgreSQL came back; capped here at a tenth of a second. Every attempt is driven by a
 * query that waits, and a refused connection fails that query at once, so there is no loop
 * to slow down.
 */
const reconnectDelay = (failures: number): number => Math.min(0.1, 0.01 * failures);

/** What postgres.js passes to a socket factory (its parsed options). */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
}

/** A query as postgres.js runs it: `state` is set once it is written to a connection. */
interface RunningQuery {
  state: unknown;
}

const isRunningQuery = (value: unknown): value is RunningQuery => typeof value === 'object' && value !== null && 'state' in value;

/**
 * The event store on PostgreSQL (postgres.js). The `events` table is append-only with a unique
 * (game, sequence); `games` holds one row per game with its fencing epoch and last sequence.
 */
export class PgEventStore {
  readonly sql: postgres.Sql;
  readonly queryTimeoutMs: number;
  private readonly schema: string;
  /** The pool's sockets (see `dropStalled`). */
  private readonly sockets = new Map<Socket, SocketWatch>();
  /** Calls handed to postgres.js and not settled by it yet; at most the pool size (see `wrap`). */
  private running = 0;
  private readonly poolSize: number;
  /** Calls waiting for one of those places, oldest first; each says whether it still wants it. */
  private readonly admissions: Array<() => boolean> = [];
  /** Dropped sockets not closed yet: postgres.js would still write to them (see dropStalled). */
  private closing = 0;
  /** Whether PostgreSQL answers, and the moment it answers again after an outage. */
  readonly reachability: PgReachability;

  constructor(url: string, options: EventStoreOptions = {}) {
    this.schema = options.schema ?? 'public';
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.poolSize = options.max ?? 10;
    const config: Partial<postgres.Options<Record<string, postgres.PostgresType>>> = {
      max: this.poolSize,
      idle_timeout: 30,
      // A stalled link never refuses: connecting is bounded like a statement.
      connect_timeout: this.queryTimeoutMs / 1000,
      backoff: reconnectDelay,
      onnotice: options.onNotice ?? (() => {}),
      connection: {
        search_path: this.schema,
        // PGAPPNAME, as libpq reads it, tells one node's backends apart (scripts/bench-node.ts).
        application_name: process.env.PGAPPNAME || 'golf-runtime',
        // A live server gives up first, with an error that says the statement did not happen
        // (a lock wait, say), before the bound below takes the connection for stalled.
        statement_timeout: Math.max(50, Math.floor(this.queryTimeoutMs * STATEMENT_SHARE)),
      },
      transform: { undefined: null },
    };
    // Our own sockets (postgres.js's `socket` option, not in its types), so that a connection
    // whose statement got no answer can be dropped.
    const socket = (target: SocketTarget) => this.openSocket(target);
    this.sql = postgres(url, { ...config, socket } as typeof config);
    this.reachability = new PgReachability(() => this.wrap(() => this.sql`select 1`, Math.min(PROBE_TIMEOUT_MS, this.queryTimeoutMs)), PROBE_EVERY_MS);
  }

  /** Applies pending migrations; serialised across nodes by an advisory lock. */
  async migrate(): Promise<void> {
    await this.wrap(async () => {
      await this.sql.begin(async (tx) => {
        // Waiting for another node's migrations is not a stall (bounded by MIGRATION_TIMEOUT_MS).
        await tx`set local statement_timeout = 0`;
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
    }, Math.max(MIGRATION_TIMEOUT_MS, this.queryTimeoutMs));
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
      replay_id: r.summary.replay_id ?? null,
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
            options jsonb, players jsonb, winner_ids jsonb, replay_id text)
        ), passed as (
          update games g set
            last_seq = b.new_seq, epoch = b.epoch, status = b.status, options = coalesce(b.options, g.options),
            players = coalesce(b.players, g.players), winner_ids = coalesce(b.winner_ids, g.winner_ids),
            replay_id = coalesce(b.replay_id, g.replay_id),
            -- To the second is enough for what reads it (idle and expiry times): the row of a
            -- game in play then keeps its indexed columns for most moves, so the update is HOT
            -- (no index entries to add; see migration 4).
            updated_at = case when g.updated_at < now() - interval '1 second' or b.status <> g.status then now() else g.updated_at end,
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

  /**
   * The finished game whose replay id this is, with its events up to game_ended; null when no game has it,
   * and when the game with it is not finished (a replay of a game in play would show its
   * hidden cards: it answers as if the id named nothing).
   */
  async finishedByReplayId(replayId: string, maxEvents = Number.POSITIVE_INFINITY): Promise<FinishedGame | 'too_large' | null> {
    const games = await this.wrap(
      () => this.sql<Array<{ game_id: string; room_code: string; ended_at: Date | null; last_seq: number }>>`
        select game_id, room_code, ended_at, last_seq from games where replay_id = ${replayId} and status = 'finished'`,
    );
    const row = games[0];
    if (!row) return null;
    // Rounds have no turn limit, so a game's events have no bound: one past the limit is not
    // loaded (nor held in memory, nor sent) at all.
    if (row.last_seq > maxEvents) return 'too_large';
    const { last_seq: _last, ...game } = row;
    // The replay is the game, which ends at game_ended. Seats left after it (players going back
    // to the start: a CPU takes each, for a next game at the table) are events of the finished
    // game too, but no move of it: served, they would make the replay end in another state than
    // the players saw at the end, and a document that changes after it was first served.
    const events = await this.loadEvents(game.game_id);
    const end = events.findIndex((e) => e.type === 'game_ended');
    if (end < 0) return { ...game, events };
    // When it ended is when game_ended was stored (the row's time moves with later appends).
    return { ...game, ended_at: events[end]!.created_at, events: events.slice(0, end + 1) };
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
   * Gives up a game that never got its first events (a "play again" whose append failed), so
   * that it does not hold its room code. A game with events is left as it is.
   */
  async abandonEmptyGame(gameId: string): Promise<boolean> {
    const rows = await this.wrap(
      () => this.sql`
        update games set status = 'abandoned', ended_at = now(), server_id = null
        where game_id = ${gameId} and last_seq = 0 and ${this.sql.unsafe(UNFINISHED)}
        returning game_id`,
    );
    return rows.length === 1;
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
    this.reachability.close();
    // Nothing should be in flight now (a drain settled first); what is left is given a moment.
    await this.sql.end({ timeout: 1 });
    for (const socket of this.sockets.keys()) socket.destroy();
  }

  /**
   * Runs one call to PostgreSQL, bounded by `timeoutMs` from now. postgres.js has no per-query
   * timeout, and a stalled link (or server) neither answers nor refuses, so the bound is kept
   * here:
   *
   * - at most as many calls as the pool has connections are handed to postgres.js at once; the
   *   others wait here, in order. So a statement handed over goes to a connection at once
   *   (written, or the first of a connection being made, which connect_timeout bounds), and one
   *   whose time runs out while it waits here is dropped for sure: it never reaches PostgreSQL.
   * - when the time of a call handed over runs out, the caller is told at once that its outcome
   *   is unknown, and the connections that got no byte back for a while although they wait for
   *   a reply are dropped (a statement unanswered for that long means the link is stalled: a
   *   live server would have answered with statement_timeout's error). Dropping them rejects
   *   what they carried, and the next calls get fresh connections: nothing stays stuck on a
   *   dead one. Its place is given back when postgres.js settles the statement (or, should it
   *   never, after twice the bound).
   * - a failure says whether anything may have been written: EventStoreUnavailable when the
   *   statement was never sent or PostgreSQL answered with an error (rolled back), and
   *   EventStoreInDoubt when it was sent and no answer came (timed out, connection lost).
   */
  private wrap<T>(run: () => Promise<T> | postgres.PendingQuery<postgres.Row[]>, timeoutMs = this.queryTimeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let phase: 'waiting' | 'handed' | 'done' = 'waiting';
      let query: RunningQuery | null = null;
      let grace: NodeJS.Timeout | undefined;
      const settle = (outcome: () => void) => {
        if (phase === 'done') return;
        phase = 'done';
        clearTimeout(deadline);
        clearTimeout(grace);
        outcome();
      };
      const inDoubt = () => {
        if (phase !== 'done') this.reachability.lost();
        settle(() => reject(new EventStoreInDoubt(`PostgreSQL did not answer within ${timeoutMs} ms`)));
      };
      const deadline = setTimeout(() => {
        if (phase === 'waiting') {
          const at = this.admissions.indexOf(admit);
          if (at >= 0) this.admissions.splice(at, 1);
          settle(() => reject(new EventStoreUnavailable(`PostgreSQL unavailable: no connection free within ${timeoutMs} ms`)));
        } else if (query && query.state === null) {
          // Not written yet: the first statement of a connection still being made, which
          // connect_timeout (started a moment after this call) ends soon, and then it is known
          // never to have run. Should the connection come up instead, it runs: in doubt.
          grace = setTimeout(inDoubt, CONNECT_GRACE_MS);
        } else if (phase === 'handed') {
          inDoubt();
          this.dropStalled();
        }
      }, timeoutMs);
      const admit = (): boolean => {
        if (phase !== 'waiting') return false;
        phase = 'handed';
        this.running++;
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          clearTimeout(lost);
          this.running--;
          this.admitWaiting();
        };
        const lost = setTimeout(release, 2 * timeoutMs + 1000);
        lost.unref();
        try {
          const pending = run();
          query = isRunningQuery(pending) ? pending : null;
          // `then` is what sends a postgres.js query.
          pending.then(
            (value) => {
              release();
              this.reachability.answered();
              settle(() => resolve(value as T));
            },
            (error: unknown) => {
              release();
              // An error PostgreSQL sent (but one that ends the session: shutting down, starting
              // up) says it answers; a connection refused, reset or closed says it does not.
              const fromServer = error instanceof postgres.PostgresError && (error as { severity?: string }).severity !== 'FATAL';
              if (fromServer) this.reachability.answered();
              else this.reachability.lost();
              settle(() => reject(this.failure(error, query === null || query.state !== null)));
            },
          );
        } catch (error) {
          release();
          settle(() => reject(error));
        }
        return true;
      };
      if (this.running < this.poolSize && this.closing === 0) admit();
      else this.admissions.push(admit);
    });
  }

  private admitWaiting(): void {
    while (this.running < this.poolSize && this.closing === 0 && this.admissions.length > 0) (this.admissions.shift() as () => boolean)();
  }

  /** What a failed call means for the caller (see `wrap`). */
  private failure(error: unknown, sent: boolean): Error {
    const err = error as { code?: string; message?: string; severity?: string };
    const answered = error instanceof postgres.PostgresError;
    if (answered && err.code && /^(23|42)/.test(err.code)) return error as Error; // constraint or SQL errors are bugs, not outages
    if (answered && err.code && /^22/.test(err.code)) return new EventDataRejected(`PostgreSQL refused the data: ${err.message ?? err.code}`);
    const what = err.message ?? String(error);
    // An ERROR answer rolled the statement back; FATAL ends the session, possibly after a commit.
    const certain = !sent || (answered && err.severity === 'ERROR');
    return certain ? new EventStoreUnavailable(`PostgreSQL unavailable: ${what}`) : new EventStoreInDoubt(`PostgreSQL did not confirm the statement: ${what}`);
  }

  private openSocket(target: SocketTarget): Socket {
    // One host, as in our URLs (postgres.js's multi-host rotation is not used here).
    const socket = target.path ? connect(target.path) : connect(target.port[0] ?? 5432, target.host[0] ?? 'localhost');
    Object.assign(socket, { host: target.host[0], port: target.port[0] });
    const watch: SocketWatch = { opened: Date.now(), waitingSince: null };
    // (With TLS, postgres.js takes our close listener over: forget such sockets here.)
    for (const old of this.sockets.keys()) if (old.destroyed) this.sockets.delete(old);
    this.sockets.set(socket, watch);
    socket.once('close', () => this.sockets.delete(socket));
    // With TLS, postgres.js writes and reads on a TLS socket over this one, which sees neither:
    // dropStalled falls back on its age.
    if (target.ssl) return socket;
    // Whether it waits for a reply, and since when.
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      watch.waitingSince ??= Date.now();
      return write(...args);
    }) as typeof socket.write;
    socket.on('data', () => {
      watch.waitingSince = null;
    });
    return socket;
  }

  /**
   * Drops the connections that wait for a reply and have heard nothing for half the bound or
   * more (those still connecting excepted: connect_timeout bounds them, and dropping them
   * would only start them over). Should none look so (a TLS socket, whose bytes this store
   * does not see), every connection past its start is dropped.
   *
   * Without an error on purpose: postgres.js then rejects what the connection carried and
   * takes it out of use in one step, whereas after a socket error it does so only at the close
   * that follows, and a statement handed to it in between would be lost. Until that close
   * postgres.js still takes the connection for open, so no call is handed over meanwhile.
   */
  private dropStalled(): void {
    const now = Date.now();
    const started = [...this.sockets].filter(([socket, watch]) => !socket.destroyed && (socket.bytesRead > 0 || now - watch.opened > this.queryTimeoutMs));
    const silent = started.filter(([, watch]) => watch.waitingSince !== null && now - watch.waitingSince >= this.queryTimeoutMs / 2);
    for (const [socket] of silent.length > 0 ? silent : started) {
      this.closing++;
      let counted = true;
      const closed = () => {
        if (!counted) return;
        counted = false;
        clearTimeout(guard);
        this.closing--;
        this.admitWaiting();
      };
      socket.once('close', closed);
      // The close comes within a turn of the event loop; this only keeps a lost one from
      // holding every call back.
      const guard = setTimeout(closed, 1000);
      guard.unref();
      socket.destroy();
    }
  }
}
