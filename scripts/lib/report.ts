/**
 * What the long-running scripts show: a progress bar on stderr while they run (only when stderr
 * is a terminal: piped into a file or CI, nothing is drawn), and a table of results on stdout.
 */
import cliProgress from 'cli-progress';
import Table from 'cli-table3';

export interface Progress {
  /** Sets the count done (and the detail shown after the bar). */
  update(done: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, setTotal() {}, stop() {} };

/** A bar for `total` units of work named `label` ("games", "s", ...). */
export function progress(label: string, total: number, unit: string): Progress {
  if (!process.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted} | {detail}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 28,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  let stopped = false;
  return {
    update: (done, detail) => bar.update(Math.min(done, total), detail === undefined ? undefined : { detail }),
    setTotal: (n) => {
      total = n;
      bar.setTotal(n);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/**
 * Progress over a fixed time: a bar that fills over `seconds`, with `detail()` refreshed every
 * quarter second. Returns a function that stops it.
 */
export function timedProgress(label: string, seconds: number, detail: () => string = () => ''): () => void {
  const bar = progress(label, Math.max(1, Math.round(seconds)), 's');
  const started = performance.now();
  const timer = setInterval(() => bar.update(Math.floor((performance.now() - started) / 1000), detail()), 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    bar.stop();
  };
}

/** A results table (no colours: the output is often kept in a file). */
export function resultTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(String));
  return `${table.toString()}\n`;
}
