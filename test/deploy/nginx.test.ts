/**
 * deploy/nginx.conf for real: Debian's nginx runs that file (only its three upstream addresses
 * and its listen port rewritten) in front of three node processes on the test PostgreSQL and
 * Redis. Players play through it over WebSocket; the room's node is drained (SIGTERM), then the
 * room's next node is killed (SIGKILL); the players resume through nginx and the game ends with
 * every acknowledged move stored.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';
import { ROOT, spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { freePort } from '../support/throwaway.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((file) => existsSync(file)) ?? null;

/**
 * deploy/nginx.conf with `server nodeN:8080` pointed at `upstreams[N-1]` on 127.0.0.1 and
 * `listen 80` at 127.0.0.1:`port`; nothing else changes.
 */
function localNginxConfig(source: string, upstreams: number[], port: number): string {
  let servers = 0;
  let listens = 0;
  const text = source
    .replace(/^(\s*server\s+)node(\d+):8080\b/gm, (_, lead: string, n: string) => {
      servers++;
      return `${lead}127.0.0.1:${upstreams[Number(n) - 1]}`;
    })
    .replace(/^(\s*listen\s+)80;/gm, (_, lead: string) => {
      listens++;
      return `${lead}127.0.0.1:${port};`;
    });
  if (servers !== upstreams.length || listens !== 1) {
    throw new Error(`deploy/nginx.conf: expected ${upstreams.length} "server nodeN:8080" lines and one "listen 80;", found ${servers} and ${listens}`);
  }
  return text;
}

/** The main configuration around it, as the nginx image's nginx.conf is, with files under `dir`. */
function mainConfig(dir: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  log_format upstreams '$request_method $uri $status upstream=[$upstream_addr] upstream_status=[$upstream_status]';
  access_log ${dir}/access.log upstreams;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/golf.conf;
}
`;
}

const config = testConfig();
const dir = mkdtempSync(path.join(tmpdir(), 'golf-nginx-'));
// As root, nginx's workers run as an unprivileged user, which must reach its temporary files.
chmodSync(dir, 0o755);
const nodes: NodeProcess[] = [];
const bots: ChaosBot[] = [];
let nginx: ChildProcess | null = null;
let nudger: NodeJS.Timeout | null = null;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });

async function stopNginx(): Promise<void> {
  if (!nginx || nginx.exitCode !== null || nginx.signalCode !== null) return;
  const exited = new Promise((resolve) => nginx!.once('exit', resolve));
  nginx.kill('SIGTERM');
  await exited;
}

afterAll(async () => {
  if (nudger) clearInterval(nudger);
  for (const bot of bots) bot.stop();
  await stopNginx();
  for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  redis.disconnect();
  await cleanup(config);
  rmSync(dir, { recursive: true, force: true });
});

async function until(test: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const run = NGINX ? it : it.skip;
const skipped = NGINX ? '' : ' [skipped: nginx is not installed; apt-get install nginx, as .ci/run does]';

describe('deploy/nginx.conf in front of three nodes', () => {
  run(`a game played through nginx survives a drained node and a killed one${skipped}`, async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodeIds = ports.map((_, i) => `${config.REDIS_PREFIX}n${i + 1}`);
    nodes.push(
      ...(await Promise.all(
        ports.map((port, i) =>
          spawnNode(processEnv(config, port, { NODE_ID: nodeIds[i]!, TRUST_PROXY: '1', CPU_THINK_MS: '5', ROUND_PAUSE_MS: '300', DRAIN_TIMEOUT_MS: '5000' })),
        ),
      )),
    );

    const lbPort = await freePort();
    writeFileSync(path.join(dir, 'golf.conf'), localNginxConfig(readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8'), ports, lbPort));
    writeFileSync(path.join(dir, 'nginx.conf'), mainConfig(dir));
    const args = ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf')];
    execFileSync(NGINX!, ['-t', ...args], { stdio: 'pipe' }); // throws with nginx's own words
    nginx = spawn(NGINX!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const lb = `http://127.0.0.1:${lbPort}`;
    await until(() => fetch(`${lb}/healthz`).then((r) => r.ok, () => false), 10_000, 'nginx');

    // Round robin over all three nodes; /metrics never reaches one.
    const through = async (pathname: string) => {
      const res = await fetch(`${lb}${pathname}`);
      await res.arrayBuffer();
      return res.status;
    };
    for (let i = 0; i < 6; i++) expect(await through('/readyz')).toBe(200);
    expect(await through('/metrics')).toBe(404);

    // Three players through nginx, and a CPU.
    for (let i = 0; i < 3; i++) bots.push(new ChaosBot(() => lbPort, i, 30));
    for (const bot of bots) await bot.connect();
    const [host, ...guests] = bots as [ChaosBot, ChaosBot, ChaosBot];
    expect((await host.request({ type: 'create_room', name: 'Host', options: { rounds: 3, initial_flips: 1 } })).type).toBe('ack');
    for (const [i, guest] of guests.entries()) expect((await guest.request({ type: 'join_room', room: host.room, name: `Guest${i}` })).type).toBe('ack');
    expect((await host.request({ type: 'add_cpu', profile: 'Priya' })).type).toBe('ack');
    expect((await host.request({ type: 'start_game' })).type).toBe('ack');
    nudger = setInterval(() => bots.forEach((b) => b.tick()), 1000);
    const room = host.room;
    const ownerOf = async () => nodeIds.indexOf((await redis.hget(`${config.REDIS_PREFIX}room:${room}`, 'server_id')) ?? '');
    const seq = () => Math.min(...bots.map((b) => b.seq));

    // 1. The room's node drains: its rooms move, its players are told to reconnect.
    await until(() => seq() >= 15, 30_000, 'the game to get going');
    const drained = await ownerOf();
    expect(drained).toBeGreaterThanOrEqual(0);
    const atDrain = seq();
    nodes[drained]!.child.kill('SIGTERM');
    expect(await nodes[drained]!.exited).toBe(0);
    for (let i = 0; i < 6; i++) expect(await through('/readyz')).toBe(200);
    await until(() => seq() >= atDrain + 15, 30_000, 'every player to see moves after the drain');

    // 2. The room's new node is killed: nginx moves on, a survivor adopts the room.
    const killed = await ownerOf();
    expect(killed).toBeGreaterThanOrEqual(0);
    expect(killed).not.toBe(drained);
    const atKill = seq();
    nodes[killed]!.child.kill('SIGKILL');
    await nodes[killed]!.exited;
    for (let i = 0; i < 6; i++) expect(await through('/readyz')).toBe(200);
    await until(() => seq() >= atKill + 15, 30_000, 'every player to see moves after the kill');

    // 3. The game ends, on the one node left.
    await until(() => bots.every((b) => b.view?.phase === 'game_over'), 120_000, 'the game to end');
    const survivor = [0, 1, 2].find((i) => i !== drained && i !== killed)!;
    expect(await ownerOf()).toBe(survivor);
    clearInterval(nudger);
    for (const bot of bots) bot.stop();

    // Everything acknowledged is stored, once, in order; nobody saw the table go backwards.
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const [game] = await sql<{ game_id: string; status: string }[]>`
        select game_id, status from ${sql(config.DATABASE_SCHEMA)}.games where room_code = ${room}`;
      expect(game!.status).toBe('finished');
      const events = await sql<{ seq: number; command_id: string | null }[]>`
        select seq, command_id from ${sql(config.DATABASE_SCHEMA)}.events where game_id = ${game!.game_id} order by seq`;
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const stored = new Set(events.map((e) => e.command_id));
      const acked = bots.flatMap((b) => [...b.acked].filter(([, a]) => a.type !== 'create_room' && a.type !== 'join_room').map(([id]) => id));
      expect(acked.length).toBeGreaterThan(20);
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await sql.end();
    }
    expect(bots.map((b) => b.backwards)).toEqual([0, 0, 0]);
    // The players whose node went away came back through nginx by themselves.
    expect(bots.reduce((n, b) => n + b.reconnects, 0)).toBeGreaterThan(0);

    // nginx's log: the WebSockets were spread over the nodes, and requests that met a node
    // that was gone went on to the next one (passive health) rather than failing.
    await stopNginx();
    const log = readFileSync(path.join(dir, 'access.log'), 'utf8').trim().split('\n');
    const upstreamsOf = (line: string) => /upstream=\[([^\]]*)\]/.exec(line)![1]!.split(/, | : /);
    const sockets = log.filter((line) => /^GET \/ws 101 /.test(line));
    expect(new Set(sockets.map((line) => upstreamsOf(line).at(-1))).size).toBeGreaterThanOrEqual(2);
    const movedOn = [drained, killed].map((gone) => {
      const lines = log.filter((line) => {
        const tried = upstreamsOf(line);
        return tried.length > 1 && tried.slice(0, -1).includes(`127.0.0.1:${ports[gone]}`) && / (200|101) /.test(line);
      });
      expect(lines.length, `requests that found node ${gone + 1} gone and were served by another`).toBeGreaterThan(0);
      return lines.length;
    });
    expect(log.filter((line) => / 50[234] /.test(line.split(' upstream=')[0]!))).toEqual([]);
    process.stdout.write(
      `through nginx: ${sockets.length} WebSockets, ${bots.reduce((n, b) => n + b.reconnects, 0)} reconnects, ` +
        `${movedOn[0]} requests passed on from the drained node and ${movedOn[1]} from the killed one\n`,
    );
  }, 240_000);
});
