/**
 * CPU time and resident memory of processes, read from /proc (Linux): what a benchmark charges
 * to each server process over a measured window.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (0 if the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Pids whose command line contains `needle` (e.g. "redis-server", "postgres: "). */
export function pidsByCommand(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * A CPU meter over a window: `cpuMeter(groups)` reads each group's pids and their CPU time,
 * then `stop()` reads them again (pids that appeared meanwhile, a new PostgreSQL backend,
 * count from zero) and gives the CPU seconds each group used.
 */
export async function cpuMeter(groups: Record<string, () => number[] | Promise<number[]>>): Promise<{ stop(): Promise<Record<string, number>> }> {
  const before: Record<string, Map<number, number>> = {};
  for (const [name, pids] of Object.entries(groups)) before[name] = new Map((await pids()).map((pid) => [pid, cpuSeconds(pid)]));
  return {
    stop: async () => {
      const used: Record<string, number> = {};
      for (const [name, pids] of Object.entries(groups)) {
        used[name] = 0;
        for (const pid of await pids()) used[name] += cpuSeconds(pid) - (before[name]!.get(pid) ?? 0);
      }
      return used;
    },
  };
}
