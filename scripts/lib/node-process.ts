import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<number | null>;
  logs: string[];
}

/**
 * Compiles the server to `dist/` as `npm run build` does (not the web client): what the image
 * runs. A benchmark measuring a node's memory runs this build, since a node under tsx also holds
 * the sources and transform caches, which are not what a room costs.
 */
export function buildServer(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * Starts the node in a child process and waits until /readyz answers 200: `src/main.ts` under
 * tsx, or with `built` the compiled `dist/src/main.js` (see `buildServer`).
 */
export async function spawnNode(env: Record<string, string>, timeoutMs = 60_000, { built = false, nodeArgs = [] as string[] } = {}): Promise<NodeProcess> {
  const entry = built ? [path.join(ROOT, 'dist', 'src', 'main.js')] : ['--import', 'tsx', path.join(ROOT, 'src', 'main.ts')];
  const child = spawn(process.execPath, [...(process.env.GOLF_NODE_ARGS ? process.env.GOLF_NODE_ARGS.split(' ') : []), ...nodeArgs, ...entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(line);
    if (logs.length > 2000) logs.splice(0, logs.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = Number(env.PORT);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}:\n${logs.slice(-20).join('\n')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return { child, port, url: `http://127.0.0.1:${port}`, exited, logs };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`node not ready in ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`);
}
