import { spawn, type ChildProcess } from 'node:child_process';
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

/** Starts `src/main.ts` in a child process and waits until /readyz answers 200. */
export async function spawnNode(env: Record<string, string>, timeoutMs = 60_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...(process.env.GOLF_NODE_ARGS ? process.env.GOLF_NODE_ARGS.split(' ') : []), '--import', 'tsx', path.join(ROOT, 'src', 'main.ts')], {
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
