/**
 * Throwaway PostgreSQL and Redis servers on free ports, for fault tests that stop, kill or
 * pause them (the shared servers are never touched).
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A port free to listen on, chosen below the kernel's ephemeral range: a port from listen(0) is
 * in that range, and between its close and a child's bind an outgoing connection (a node's
 * link to Redis, say) may take it as its local port (EADDRINUSE, seen in bench-failover).
 * Random, so that concurrent test files rarely try the same one; tried before it is returned.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10000;
  const span = Math.max(1000, low - floor);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = floor + Math.floor(Math.random() * span);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: the IANA range's start.
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return path.join(root, version!, 'bin', name);
}

const asRoot = process.getuid?.() === 0;
/** The command line that runs `command` as the postgres user (runuser when this process is root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function runAsPostgres(command: string, args: string[]): void {
  execFileSync(...asPostgres(command, args), { stdio: 'pipe' });
}

/** runAsPostgres without blocking the event loop (a benchmark's clients keep being served meanwhile). */
async function runAsPostgresAsync(command: string, args: string[]): Promise<void> {
  await promisify(execFile)(...asPostgres(command, args));
}

export class ThrowawayPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(path.join(tmpdir(), 'golf-pg-'));
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
    }
    runAsPostgres(pgBin('initdb'), ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const pg = new ThrowawayPostgres(dir, await freePort());
    pg.startServer();
    return pg;
  }

  startServer(): void {
    runAsPostgres(pgBin('pg_ctl'), this.startArgs());
  }

  /** startServer, the caller's event loop running meanwhile (pg_ctl -w takes half a second). */
  async startServerAsync(): Promise<void> {
    await runAsPostgresAsync(pgBin('pg_ctl'), this.startArgs());
  }

  private startArgs(): string[] {
    return ['-D', path.join(this.dir, 'data'), '-w', '-l', path.join(this.dir, 'log'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'];
  }

  /** Stops at once, like a crash (in-flight transactions are lost, committed ones kept). */
  stop(): void {
    runAsPostgres(pgBin('pg_ctl'), ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ThrowawayRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.startServer();
    return redis;
  }

  async startServer(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe' });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('throwaway redis did not start');
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

