/**
 * golfctl: the operators' command line, against the same Redis and PostgreSQL as the nodes.
 * `runGolfctl` takes its arguments, environment and output from the caller and returns the
 * exit code (the tests run it in process; golfctl.ts is the thin entry).
 *
 * Exit codes: 0 all well; 1 something is wrong (a replay that differs, fsck problems, a drain
 * that did not happen, no such room); 2 bad usage or unreachable stores.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config.js';
import { requestDrain } from './drain.js';
import { duration, json, parseDuration, short, table } from './format.js';
import { fsck } from './fsck.js';
import { listNodes, listRooms, roomDetail } from './inspect.js';
import { replayGame } from './replay.js';
import { openStores, UsageError, type OpsStores } from './stores.js';

export interface Io {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

const durationArg = (text: string) => {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

const eventsArg = (text: string): number | 'all' => {
  if (text === 'all') return 'all';
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('a number of events, or "all"');
  return Number(text);
};

export async function runGolfctl(argv: readonly string[], io: Io): Promise<number> {
  let code = 0;
  let stores: OpsStores | null = null;
  const open = async () => (stores ??= await openStores(io.env));
  const jsonOption = () => new Option('--json', 'print JSON (for scripts) instead of a table');

  const program = new Command('golfctl')
    .description('Operate a golf-runtime cluster: nodes, rooms, replays, drains and consistency checks.\nReads DATABASE_URL, DATABASE_SCHEMA, REDIS_URL and REDIS_PREFIX, like the nodes.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(golfctl --help for usage)');

  program
    .command('nodes')
    .description('live nodes (heartbeats), and dead ones still named as owners; rooms and connected players on each')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const rows = await listNodes(await open());
      if (opts.json) return io.out(json(rows));
      if (rows.length === 0) return io.out('no nodes\n');
      io.out(table(['NODE', 'STATE', 'ROOMS', 'PLAYERS', 'HEARTBEAT AGE', 'HEARTBEAT TTL'], rows.map((n) => [n.node, n.alive ? 'alive' : 'dead', n.rooms, n.players, duration(n.heartbeat_age_ms), duration(n.heartbeat_ttl_ms)])));
      // A dead node that still owns rooms is a failover in progress (or a stuck one).
      if (rows.some((n) => !n.alive)) io.err('dead: no heartbeat, but named as the owner of unfinished games (their rooms wait for adoption)\n');
    });

  program
    .command('rooms')
    .description('unfinished games: owner, status and phase, players, last move')
    .option('--node <id>', 'only the rooms this node owns')
    .option('--status <status>', 'only this status (lobby, playing, finished, abandoned) or phase (initial_flip, final_turn, round_over, ...)')
    .option('--idle-over <duration>', 'only rooms whose last move is older (30s, 5m, 2h)', durationArg)
    .option('--all', 'finished and abandoned games within the room TTL too')
    .addOption(jsonOption())
    .action(async (opts: { node?: string; status?: string; idleOver?: number; all?: boolean; json?: boolean }) => {
      const rows = await listRooms(await open(), { node: opts.node, status: opts.status, all: opts.all, idleOverSeconds: opts.idleOver === undefined ? undefined : opts.idleOver / 1000 });
      if (opts.json) return io.out(json(rows));
      if (rows.length === 0) return io.out('no rooms\n');
      io.out(
        table(
          ['ROOM', 'GAME', 'OWNER', 'STATUS', 'PHASE', 'ROUND', 'PLAYERS', 'CONNECTED', 'SEQ', 'LAST MOVE'],
          rows.map((r) => [
            r.room,
            short(r.game_id),
            r.owner ? `${r.owner}${r.owner_alive ? '' : ' (dead)'}` : '(idle)',
            r.status,
            r.phase,
            r.round,
            `${r.players} (${r.humans} human)`,
            r.connected,
            r.seq,
            `${duration(r.last_move_age_s * 1000)} ago`,
          ]),
        ),
      );
    });

  program
    .command('room')
    .description('one room: its game in PostgreSQL, its snapshot, lease and watchers in Redis, its events')
    .argument('<code>', 'room code (or a game id)')
    .option('--events <n>', 'how many of the last events to show, or "all"', eventsArg, 20 as number | 'all')
    .addOption(jsonOption())
    .action(async (ref: string, opts: { events: number | 'all'; json?: boolean }) => {
      const room = await roomDetail(await open(), ref, opts.events);
      if (!room) {
        code = 1;
        return io.err(`no room or game ${ref}\n`);
      }
      if (opts.json) return io.out(json(room));
      const { game, snapshot, lease } = room;
      const lines = [
        `room       ${room.room}`,
        `game       ${game.game_id}  ${game.status}  last_seq ${game.last_seq}  epoch ${game.epoch} (PostgreSQL)  last move ${duration(game.idle_seconds * 1000)} ago`,
        `snapshot   ${snapshot ? `seq ${snapshot.seq}  epoch ${snapshot.epoch}  ${snapshot.phase} (machine: ${snapshot.state})  round ${snapshot.round}${snapshot.behind_by ? `  ${snapshot.behind_by} behind the events` : ''}` : '(none in Redis)'}`,
        `owner      ${lease.owner ? `${lease.owner}  ${lease.owner_alive ? `alive (heartbeat ${duration(lease.owner_heartbeat_age_ms)} ago)` : 'DEAD (no heartbeat)'}` : '(hosted nowhere: idle)'}`,
        `lease      ${lease.held ? `held, ${duration(lease.ttl_ms)} left` : 'free'}`,
        `redis      ${room.redis ? `room hash: status ${room.redis.status}, server ${room.redis.server_id || '(none)'}, epoch ${room.redis.epoch}, expires in ${duration(room.redis.ttl_seconds * 1000)}` : '(no room hash for this game)'}`,
        `watching   ${room.watchers.length ? room.watchers.map((w) => w.name).join(', ') : '(nobody connected)'}`,
      ];
      io.out(`${lines.join('\n')}\n\n`);
      io.out(table(['PLAYER', 'ID', 'KIND', 'CONNECTED', 'TOTAL'], room.players.map((p) => [p.name, short(p.id), p.cpu ? 'cpu' : 'human', p.connected ? 'yes' : 'no', p.total_score])));
      io.out(`\nevents ${room.events_shown.from}..${room.events_shown.to} of ${room.events_shown.total}\n`);
      io.out(table(['SEQ', 'TYPE', 'PLAYER', 'TIME'], room.events.map((e) => [e.seq, e.type, e.player ?? (e.player_id ? short(e.player_id) : null), e.at.toISOString()])));
    });

  program
    .command('replay')
    .description('fold a game\'s events with the engine, step by step, and compare the result with the live snapshot (exit 1 if they differ)')
    .argument('<game>', 'game id or room code')
    .option('--quiet', 'only the verdict, not every step')
    .addOption(jsonOption())
    .action(async (ref: string, opts: { quiet?: boolean; json?: boolean }) => {
      const report = await replayGame(await open(), ref);
      if (!report) {
        code = 1;
        return io.err(`no game ${ref}\n`);
      }
      if (report.error || report.equal === false) code = 1;
      if (opts.json) return io.out(json(report));
      if (!opts.quiet) {
        io.out(
          table(
            ['SEQ', 'EVENT', 'BY', 'PHASE', 'ROUND', 'TURN', 'SCORES'],
            report.steps.map((s) => [s.seq, s.type, s.player, s.phase, s.round, s.turn, Object.entries(s.scores).map(([name, score]) => `${name} ${score}`).join(', ')]),
          ),
        );
      }
      io.out(`game ${report.game_id} (room ${report.room}, ${report.status}): ${report.steps.length} of ${report.last_seq} events replayed\n`);
      if (report.error) io.out(`REPLAY STOPPED: ${report.error}\n`);
      if (report.equal === null) io.out('no snapshot in Redis: nothing to compare\n');
      else if (report.equal) io.out(`snapshot (seq ${report.snapshot!.seq}, epoch ${report.snapshot!.epoch}) EQUALS the replay at seq ${report.compared_at}\n`);
      else io.out(`snapshot (seq ${report.snapshot!.seq}, epoch ${report.snapshot!.epoch}) DIFFERS from the replay:\n${report.differences.map((d) => `  ${d}`).join('\n')}\n`);
    });

  program
    .command('drain')
    .description('ask a node to drain, as SIGTERM does: its rooms move to peers, its clients reconnect, it exits 0')
    .argument('<node>', 'node id (see golfctl nodes)')
    .option('--no-wait', 'return once the node got the request')
    .option('--timeout <duration>', 'how long to wait for the node to finish', durationArg, 30_000)
    .addOption(jsonOption())
    .action(async (node: string, opts: { wait: boolean; timeout: number; json?: boolean }) => {
      const result = await requestDrain(await open(), node, { wait: opts.wait, timeoutMs: opts.timeout });
      if (!result.requested || result.drained === false) code = 1;
      if (opts.json) return io.out(json(result));
      const detail = result.drained ? ` in ${duration(result.ms)}; rooms on it: ${result.rooms_before} before, ${result.rooms_after} now` : '';
      (code === 0 ? io.out : io.err)(`${result.message}${detail}\n`);
      if (result.warning) io.err(`note: ${result.warning}\n`);
    });

  program
    .command('fsck')
    .description('check every unfinished game: gap-free events, replay equals snapshot, owner alive, lease held (exit 1 on any problem)')
    .option('--all', 'finished games within the room TTL too (events and snapshot only)')
    .addOption(jsonOption())
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const report = await fsck(await open(), { all: opts.all });
      if (report.problems > 0) code = 1;
      if (opts.json) return io.out(json(report));
      if (report.findings.length > 0) {
        io.out(table(['ROOM', 'GAME', 'CHECK', 'SEVERITY', 'FINDING'], report.findings.map((f) => [f.room, short(f.game_id), f.check, f.severity, f.message])));
      }
      io.out(`${report.games} games checked: ${report.problems} problems, ${report.warnings} warnings\n`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too, with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`golfctl: ${error.message}\n`);
      return 2;
    }
    io.err(`golfctl: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await (stores as OpsStores | null)?.close();
  }
}
