/**
 * Failover as players see it: real node processes on a throwaway Redis and PostgreSQL (the
 * project's default settings, but for the game's pacing), rooms of paced bots that resume by
 * themselves on any node, and one fault at a time. For each fault kind it prints, over every
 * affected room and player:
 *   - the time from the fault to the room's next accepted move (for a store restart, from the
 *     store answering again);
 *   - each player whose socket the fault closed: the time from the fault until they are seated
 *     again (welcomed back on some node);
 *   - each player of those rooms, over 3 s from the fault: their longest stall, the longest wait
 *     from sending a command to its answer or from a frame to the next (the drain's target);
 *   - `none`: the same measures at a moment without a fault (the floor set by the bots' pace).
 * A SIGSTOP lasts 5 s; a killed or drained node is started again at once; `rolling` drains and
 * restarts every node in turn.
 * Then the idle cost of rooms: one node process, `--idle-rooms` lobbies of 4 players each
 * connected, its CPU share and Redis commands per second over `--idle-seconds`.
 *
 *   npx tsx scripts/bench-failover.ts [--nodes 3] [--rooms 120] [--repeat 2] [--think-ms 150]
 *     [--faults none,sigkill,sigterm,sigstop,redis-restart,postgres-restart,rolling]
 *     [--idle-rooms 1000] [--idle-seconds 20] [--skip-idle] [--skip-faults] [--log-dir DIR [--log-level debug]] [--trace FILE]
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { CPU_PROFILES } from '../src/ai/index.js';
import { ChaosBot } from './lib/chaos-bot.js';
import { ChaosCluster } from './lib/chaos-cluster.js';
import { resultTable } from './lib/report.js';

const KINDS = ['none', 'sigkill', 'sigterm', 'sigstop', 'redis-restart', 'postgres-restart', 'rolling'] as const;
type Kind = (typeof KINDS)[number];

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    rooms: { type: 'string', default: '120' },
    repeat: { type: 'string', default: '2' },
    'think-ms': { type: 'string', default: '150' },
    faults: { type: 'string', default: KINDS.join(',') },
    'idle-rooms': { type: 'string', default: '1000' },
    'idle-seconds': { type: 'string', default: '20' },
    'skip-idle': { type: 'boolean', default: false },
    'skip-faults': { type: 'boolean', default: false },
    /** Keeps the nodes' logs (info level) in this folder, one file per node. */
    'log-dir': { type: 'string' },
    /** The nodes' log level with --log-dir (debug shows each room restored and each adoption look). */
    'log-level': { type: 'string', default: 'info' },
    /** Writes to this file, for each affected room, what its players saw from just before each fault to 4 s after (times from the fault). */
    trace: { type: 'string' },
  },
});
const kinds = values.faults.split(',') as Kind[];
for (const kind of kinds) if (!KINDS.includes(kind)) throw new Error(`unknown fault ${kind}; one of ${KINDS.join(', ')}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
/** Only the game's pacing differs from the defaults (the failover settings are the defaults). */
const PACING = { CPU_THINK_MS: '100', ROUND_PAUSE_MS: '500' };

interface Sample {
  kind: Kind;
  /** For a node fault: when each affected room was first seen hosted by another node (sampled every 100 ms). */
  moved?: Map<string, number>;
  /** From when the affected rooms' next moves are counted. */
  from: number;
  /** When the fault was injected (players' seat times count from here). */
  at: number;
  rooms: string[];
}

/** The span after a fault (or a quiet moment) over which players' stalls are looked at. */
const STALL_WINDOW_MS = 3000;
/** Pauses the game makes on purpose (the view after the frame was in one): not a stall. */
const RESTING = new Set(['round_over', 'game_over', 'lobby']);

/** Every game's moves as the store has them: seq -> when the node made it, and the client command (if any) it came from. */
type Moves = Map<string, Map<number, { at: number; command: string | null }>>;

/**
 * A player's longest stall over [from, to), as the waits that overlap the span:
 *   - command: from sending a command to its answer (ack or refusal; a command resent after a
 *     reconnect counts from its first send): all of it is the system's;
 *   - frame (raw): from a frame to the next (but after one that left the game resting between
 *     rounds). This counts the players' own thinking too: with nothing wrong, a player waits
 *     for the others to decide (the `none` floor);
 *   - extra: from the moment the next move was made (a bot's command: when it was first sent;
 *     a CPU's move or a timer: when its deadline fell, the move before it plus the CPU's think
 *     or the round pause; whichever is sooner, the move's own time) until the player was shown
 *     it or a later one. That is the wait the system adds: without a fault, about one delivery.
 * Out of its seat a player gets no frame: that counts, as a wait for what was made meanwhile.
 */
function longestStall(bot: ChaosBot, from: number, to: number, moves: Moves, sentAt: ReadonlyMap<string, number>): { command: number; frame: number; extra: number } {
  let command = 0;
  for (const c of bot.commands) {
    const end = c.answered ?? to;
    if (c.sent < to && end > from) command = Math.max(command, end - c.sent);
  }
  let frame = 0;
  const frames = bot.frames;
  for (let i = 0; i < frames.length; i++) {
    const start = frames[i]!;
    const end = frames[i + 1]?.at ?? to;
    if (start.at >= to || end <= from || RESTING.has(start.phase ?? 'lobby')) continue;
    frame = Math.max(frame, end - start.at);
  }
  let extra = 0;
  const waited = (seen: ChaosBot['frames'][number], end: number) => {
    if (!seen.game || seen.phase === undefined || seen.phase === 'lobby' || seen.phase === 'game_over') return;
    const game = moves.get(seen.game);
    const next = game?.get(seen.seq + 1);
    // Nothing was made after what it saw (by the end of the run): nothing was due to it.
    if (!next) return;
    const made = game!.get(seen.seq)?.at ?? next.at;
    const pace = seen.phase === 'round_over' ? Number(PACING.ROUND_PAUSE_MS) : Number(PACING.CPU_THINK_MS);
    const due = (next.command !== null ? sentAt.get(next.command) : undefined) ?? Math.min(next.at, made + pace);
    const start = Math.max(seen.at, due);
    if (start < to && end > from) extra = Math.max(extra, end - start);
  };
  let last: ChaosBot['frames'][number] | null = null;
  for (const f of frames) {
    if (!f.game) continue;
    // Only a frame that shows something new ends a wait (an ack, or a presence change, does not).
    if (last && f.game === last.game && f.seq <= last.seq) continue;
    if (last && f.game === last.game) waited(last, f.at);
    last = f;
  }
  if (last) waited(last, to);
  return { command, frame, extra };
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const stats = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted.length ? `${q(sorted, 50)} / ${q(sorted, 99)} / ${sorted[sorted.length - 1]}` : '-';
};

async function faultRuns(): Promise<string> {
  const name = `failover_${randomBytes(3).toString('hex')}`;
  const cluster = await ChaosCluster.start(Number(values.nodes), name, { ...PACING, ...(values['log-dir'] ? { LOG_LEVEL: values['log-level'] } : {}) });
  if (values['log-dir']) mkdirSync(values['log-dir'], { recursive: true });
  const keepLogs = () => {
    if (!values['log-dir']) return;
    cluster.slots.forEach((slot, i) => slot.node && appendFileSync(`${values['log-dir']}/node-${i}.log`, `${slot.node.logs.join('\n')}\n`));
  };
  const rooms = Number(values.rooms);
  const think = Number(values['think-ms']);
  const bots: ChaosBot[] = [];
  const codes: string[] = [];
  log(`${values.nodes} nodes up; seating ${rooms} rooms`);
  // From the first room on: a request whose answer was lost (its socket dropped on a loaded
  // machine) is sent again by the same id, or seating waits for it for ever.
  const nudger = setInterval(() => bots.forEach((b) => b.tick()), 1000);
  for (let r = 0; r < rooms; r++) {
    const host = new ChaosBot(() => cluster.port, r, think);
    const guest = new ChaosBot(() => cluster.port, r + 3, think);
    bots.push(host, guest);
    await host.connect();
    await guest.connect();
    // Long games: the rooms must still be playing at the last fault.
    await host.request({ type: 'create_room', name: 'Host', options: { rounds: 18, initial_flips: 1 } });
    await guest.request({ type: 'join_room', room: host.room, name: 'Guest' });
    await host.request({ type: 'add_cpu', profile: CPU_PROFILES[r % 8]!.name });
    await host.request({ type: 'start_game' });
    codes.push(host.room);
    if ((r + 1) % 50 === 0) log(`${r + 1} rooms seated`);
  }
  const samples: Sample[] = [];
  const sequence = Array.from({ length: Number(values.repeat) }, () => kinds).flat();
  await sleep(3000);
  for (const kind of sequence) {
    const playing = codes.filter((_, r) => bots[2 * r]!.view?.phase !== 'game_over');
    const at = Date.now();
    let sample: Sample;
    if (kind === 'none') sample = { kind, at, from: at, rooms: playing };
    else if (kind === 'rolling') {
      // Every node in turn: SIGTERM (drain), started again, the next one once it is ready.
      for (let i = 0; i < cluster.slots.length; i++) {
        const owners = await cluster.owners();
        const t = Date.now();
        const slot = cluster.slots[i]!;
        slot.stopping = true;
        const before = slot.node!;
        before.child.kill('SIGTERM');
        await before.exited;
        if (values['log-dir']) appendFileSync(`${values['log-dir']}/node-${i}.log`, `${before.logs.join('\n')}\n`);
        slot.node = null;
        await cluster.startNode(i);
        samples.push({ kind, at: t, from: t, rooms: playing.filter((room) => owners.get(room) === i) });
      }
      log(`rolling restart of ${cluster.slots.length} nodes`);
      await sleep(6000);
      continue;
    } else {
      // The node holding the most rooms (any, for a store fault).
      const owners = await cluster.owners();
      const counts = cluster.slots.map((_, i) => playing.filter((room) => owners.get(room) === i).length);
      const victim = counts.indexOf(Math.max(...counts));
      const before = cluster.slots[victim]!.node;
      // Where the victim's rooms are hosted, watched while the fault goes on and a little after.
      const moved = new Map<string, number>();
      const mine = new Set(playing.filter((room) => owners.get(room) === victim));
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const now = await cluster.owners();
          const t = Date.now();
          for (const room of mine) if (!moved.has(room) && now.has(room) && now.get(room) !== victim) moved.set(room, t);
          await sleep(100);
        }
      })();
      // The bench's own event loop (400 bots and the front proxy in one process): its delay is
      // in every time measured here, so it is reported with them.
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const fault =
        kind === 'sigstop'
          ? await freeze(cluster, victim, playing, owners)
          : await cluster.inject(kind, () => victim, playing);
      if (values['log-dir'] && before && before !== cluster.slots[victim]!.node) appendFileSync(`${values['log-dir']}/node-${victim}.log`, `${before.logs.join('\n')}\n`);
      const store = kind === 'redis-restart' || kind === 'postgres-restart';
      if (!store) await sleep(Math.max(0, fault.at + 4000 - Date.now()));
      watching = false;
      await watcher;
      lag.disable();
      sample = { kind, at: fault.at, from: store ? fault.endedAt : fault.at, rooms: fault.rooms, ...(store ? {} : { moved }) };
      log(`${kind}${fault.node === null ? '' : ` node ${fault.node}`}: ${fault.rooms.length} rooms, lifted after ${fault.endedAt - fault.at} ms; the bench's event-loop delay p99 ${Math.round(lag.percentile(99) / 1e6)} / max ${Math.round(lag.max / 1e6)} ms`);
    }
    samples.push(sample);
    await sleep(6000);
  }
  await sleep(2000);
  clearInterval(nudger);
  for (const b of bots) b.stop();

  const acksByRoom = new Map<string, number[]>();
  for (const b of bots) {
    const list = acksByRoom.get(b.room) ?? [];
    for (const { at } of b.acked.values()) list.push(at);
    acksByRoom.set(b.room, list);
  }
  for (const list of acksByRoom.values()) list.sort((a, b) => a - b);
  // When each move was made, and from which command (the store's clock is the nodes': one machine).
  const moveSql = postgres(cluster.postgres.url, { max: 1, onnotice: () => {}, connection: { search_path: name } });
  const moveRows = await moveSql<{ game_id: string; seq: number; command_id: string | null; at: number }[]>`select game_id, seq, command_id, (extract(epoch from created_at) * 1000)::float8 as at from events`;
  await moveSql.end();
  const made: Moves = new Map();
  for (const r of moveRows) {
    let game = made.get(r.game_id);
    if (!game) made.set(r.game_id, (game = new Map()));
    game.set(r.seq, { at: r.at, command: r.command_id });
  }
  const sentAt = new Map<string, number>();
  for (const b of bots) for (const c of b.commands) sentAt.set(c.id, c.sent);
  const rows: Array<Array<string | number>> = [];
  const stallRows: Array<Array<string | number>> = [];
  for (const kind of kinds) {
    const mine = samples.filter((s) => s.kind === kind);
    const moves: number[] = [];
    const seats: number[] = [];
    const hosted: number[] = [];
    const moving: number[] = [];
    let never = 0;
    for (const s of mine) {
      for (const t of s.moved?.values() ?? []) hosted.push(t - s.at);
      const affected = new Set(s.rooms);
      for (const room of s.rooms) {
        const next = acksByRoom.get(room)?.find((t) => t >= s.from);
        const players = bots.filter((b) => b.room === room);
        // A game that ended with the fault's last moves has no next one: not a room left behind.
        if (next === undefined) never += players.some((b) => b.view?.phase === 'game_over') ? 0 : 1;
        else moves.push(next - s.from);
        // The room moving again: the first frame any of its players gets, from `from` on, of a
        // sequence past every one they saw before it (a CPU's move, a round starting, a move).
        const before = Math.max(0, ...players.flatMap((b) => b.frames.filter((f) => f.at < s.from).map((f) => f.seq)));
        const firsts = players.map((b) => b.frames.find((f) => f.at >= s.from && f.seq > before)?.at).filter((t): t is number => t !== undefined);
        if (firsts.length > 0) moving.push(Math.min(...firsts) - s.from);
      }
      // Players of those rooms whose socket the fault closed (within 3 s of it), back in a seat.
      for (const b of bots) {
        if (!affected.has(b.room) && kind !== 'redis-restart' && kind !== 'postgres-restart') continue;
        const closed = b.closedAt.find((t) => t >= s.at && t < s.at + 3000);
        if (closed === undefined) continue;
        const seated = b.seatedAt.find((t) => t >= closed);
        if (seated === undefined) never++;
        else seats.push(seated - s.at);
      }
    }
    rows.push([kind, mine.length, moves.length, stats(hosted), stats(moving), stats(moves), seats.length, stats(seats), never]);
    // Each player of the affected rooms, and each whose socket the fault closed (a drained node's
    // players of other nodes' rooms too), over the stall window (bots; the CPU does not wait).
    const commandStalls: number[] = [];
    const frameStalls: number[] = [];
    const stalls: number[] = [];
    const extraStalls: number[] = [];
    const longest: number[] = [];
    for (const s of mine) {
      const affected = new Set(s.rooms);
      for (const b of bots) {
        if (!affected.has(b.room) && !b.closedAt.some((t) => t >= s.at && t < s.at + STALL_WINDOW_MS)) continue;
        const { command, frame, extra } = longestStall(b, s.at, s.at + STALL_WINDOW_MS, made, sentAt);
        commandStalls.push(command);
        frameStalls.push(frame);
        stalls.push(Math.max(command, frame));
        extraStalls.push(extra);
        longest.push(Math.max(command, extra));
      }
    }
    stallRows.push([kind, stalls.length, stats(commandStalls), stats(frameStalls), stats(stalls), stats(extraStalls), stats(longest)]);
  }

  // Nothing acknowledged lost, nothing applied twice.
  const sql = postgres(cluster.postgres.url, { max: 2, onnotice: () => {}, connection: { search_path: name } });
  const stored = await sql<{ command_id: string; n: number }[]>`select command_id, count(distinct created_at)::int as n from events where command_id is not null group by command_id`;
  // What a command applied twice left in PostgreSQL, so that one can be looked into.
  const twice = stored.filter((r) => r.n > 1).slice(0, 3).map((r) => r.command_id);
  const twiceEvents = twice.length === 0 ? [] : await sql<{ command_id: string; game_id: string; seq: number; type: string; player_id: string; created_at: Date }[]>`select command_id, game_id, seq, type, player_id, created_at from events where command_id = any(${twice}) order by command_id, seq`;
  await sql.end();
  const appends = new Map(stored.map((r) => [r.command_id, r.n]));
  let acks = 0;
  let lost = 0;
  let doubled = 0;
  for (const b of bots) {
    for (const [id, ack] of b.acked) {
      if (ack.type === 'create_room' || ack.type === 'join_room') continue;
      acks++;
      const n = appends.get(id);
      if (n === undefined) lost++;
      else if (n > 1) doubled++;
    }
  }
  for (const e of twiceEvents) log(`applied twice: ${e.command_id} game ${e.game_id} seq ${e.seq} ${e.type} ${e.player_id} at ${e.created_at.toISOString()}`);
  if (values.trace) {
    const lines: string[] = [];
    for (const s of samples.filter((x) => x.kind !== 'none')) {
      for (const room of s.rooms) {
        const next = acksByRoom.get(room)?.find((t) => t >= s.from);
        lines.push(`== ${s.kind} at ${new Date(s.at).toISOString().slice(11, 23)} room ${room} next ${next === undefined ? 'never' : next - s.from} hosted ${s.moved?.get(room) ? s.moved.get(room)! - s.at : '-'}`);
        for (const b of bots.filter((x) => x.room === room)) {
          const stall = longestStall(b, s.at, s.at + STALL_WINDOW_MS, made, sentAt);
          lines.push(`  bot ${b.view?.you ?? ''} (longest stall: command ${stall.command}, move made to shown ${stall.extra})`);
          for (const [t, what] of b.trace) if (t >= s.at - 300 && t < s.at + 8000) lines.push(`    ${t - s.at} ${what}`);
        }
      }
    }
    appendFileSync(values.trace, `${lines.join('\n')}\n`);
  }
  const crashes = cluster.crashes.length;
  keepLogs();
  await cluster.close();
  return [
    `${values.nodes} nodes, ${rooms} rooms (2 bots + 1 CPU each, bots think ${think} ms on average), each fault ${values.repeat}x, on the node holding the most rooms`,
    resultTable(
      ['fault', 'runs', 'rooms', 'hosted elsewhere, ms', 'moving again, ms', 'to next accepted move, ms', 'players out', 'back in seat, ms', 'never'],
      rows,
    ),
    'times in ms, p50 / p99 / max; "hosted elsewhere": until the room index names another node (sampled every 100 ms); "moving again": until a player of the room sees it change (a CPU\'s move, a round starting, a move: the game\'s own pauses count, as in "next accepted move", which waits for a bot\'s move); "never": a room with no move (its game not over), or a player not seated again, by the end',
    resultTable(['fault', 'players', 'command to answer, ms', 'frame to next frame (raw), ms', 'raw stall, ms', 'move made to shown, ms', 'longest stall, ms'], stallRows),
    `each player of the affected rooms and each whose socket the fault closed (the bots; for "none" every room), over ${STALL_WINDOW_MS} ms from the fault: their longest wait from sending a command to its answer; from a frame to the next (not after one that leaves the game resting between rounds: "raw", which counts the players' own thinking, think ${think} ms on average, the CPU ${PACING.CPU_THINK_MS} ms); and from the moment the next move was made (a bot's command first sent, a CPU's or timer's deadline) to the player being shown it. "raw stall" is the larger of the first two (the measure before 2026-11-29's fix), "longest stall" of the first and the last: the wait the system adds. p50 / p99 / max over players`,
    `acknowledged moves: ${acks}; lost: ${lost}; applied twice: ${doubled}; node crashes: ${crashes}`,
  ].join('\n');
}

/** SIGSTOP for 5 s (longer than detection should take), then SIGCONT. */
async function freeze(cluster: ChaosCluster, victim: number, playing: string[], owners: Map<string, number>) {
  const node = cluster.slots[victim]!.node!;
  const at = Date.now();
  node.child.kill('SIGSTOP');
  await sleep(5000);
  node.child.kill('SIGCONT');
  return { kind: 'sigstop' as const, node: victim, at, endedAt: Date.now(), rooms: playing.filter((room) => owners.get(room) === victim) };
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function idleCost(): Promise<string> {
  const name = `idle_${randomBytes(3).toString('hex')}`;
  const cluster = await ChaosCluster.start(1, name, PACING);
  const rooms = Number(values['idle-rooms']);
  const bots: ChaosBot[] = [];
  log(`seating ${rooms} lobbies of 4`);
  for (let r = 0; r < rooms; r += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, rooms - r) }, async () => {
        const host = new ChaosBot(() => cluster.port, 0, 1000);
        await host.connect();
        await host.request({ type: 'create_room', name: 'Host', options: { rounds: 9 } });
        bots.push(host);
        for (let p = 0; p < 3; p++) {
          const guest = new ChaosBot(() => cluster.port, 0, 1000);
          await guest.connect();
          await guest.request({ type: 'join_room', room: host.room, name: `P${p}` });
          bots.push(guest);
        }
      }),
    );
  }
  // The seating's aftermath (snapshot writes, collections) settles first.
  await sleep(10_000);
  const pid = cluster.slots[0]!.node!.child.pid!;
  const admin = new Redis(cluster.redis.url);
  /** Redis's own CPU seconds, the commands it ran (those run by scripts too) and the scripts it ran. */
  const redisLoad = async () => {
    const info = await admin.info('all');
    const num = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return { cpu: num('used_cpu_sys') + num('used_cpu_user'), calls: num('total_commands_processed'), evals: Number(/cmdstat_eval(?:sha)?:calls=(\d+)/.exec(info)?.[1] ?? 0) };
  };
  const [cpu0, r0, t0] = [cpuSeconds(pid), await redisLoad(), performance.now()];
  await sleep(Number(values['idle-seconds']) * 1000);
  const [cpu1, r1, t1] = [cpuSeconds(pid), await redisLoad(), performance.now()];
  admin.disconnect();
  for (const b of bots) b.stop();
  await cluster.close();
  const seconds = (t1 - t0) / 1000;
  const rate = (a: number, b: number) => ((b - a) / seconds).toFixed(0);
  return resultTable(
    ['idle rooms (4 players connected)', 'node CPU, % of a core', 'Redis CPU, % of a core', 'Redis commands/s (all, in scripts too)', 'of which scripts (EVAL)/s', 'seconds measured'],
    [[rooms, (((cpu1 - cpu0) / seconds) * 100).toFixed(1), (((r1.cpu - r0.cpu) / seconds) * 100).toFixed(1), rate(r0.calls, r1.calls), rate(r0.evals, r1.evals), seconds.toFixed(0)]],
  );
}

const out: string[] = [`bench-failover ${new Date().toISOString().slice(0, 10)}; settings: the defaults (LEASE_TTL_MS, FAILURE_POLL_MS, DRAIN_TIMEOUT_MS...), game pacing ${JSON.stringify(PACING)}`];
if (!values['skip-faults']) out.push(await faultRuns());
if (!values['skip-idle']) out.push(await idleCost());
process.stdout.write(`${out.join('\n\n')}\n`);
process.exit(0);
