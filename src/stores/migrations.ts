/**
 * The PostgreSQL schema, as numbered migrations: each runs once, in order, under the event
 * store's advisory lock (PgEventStore.migrate).
 */

/** SQL for "the game can still be played" (the predicate of the partial indexes below). */
export const UNFINISHED = `status in ('lobby', 'playing')`;

export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
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
  {
    // A finished game's replay id (drawn from the entropy of its last move, see the game's
    // state): the only key its replay is served by, so it is unique and looked up by index.
    version: 4,
    sql: `
      alter table games add column if not exists replay_id text;
      create unique index if not exists games_replay_id on games (replay_id) where replay_id is not null;
    `,
  },
  {
    // Every move updates its game's row: room on the row's page lets the new version stay there
    // (a HOT update, no new index entries) when no indexed column changed. And every event
    // inserted paid for an index on its type that no query uses.
    version: 5,
    sql: `
      alter table games set (fillfactor = 50);
      drop index if exists events_type;
    `,
  },
];
