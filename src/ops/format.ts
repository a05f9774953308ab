/** Output of golfctl: aligned columns for people (cli-table3), JSON for scripts. */
import Table from 'cli-table3';

/** A borderless table with two spaces between columns, like kubectl's. */
export function table(head: string[], rows: Array<Array<string | number | null>>): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) t.push(row.map((cell) => (cell === null ? '-' : String(cell))));
  // cli-table3 pads the last column too: trailing blanks only get in the way of grep and diff.
  return `${t.toString().split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}

/** 850 -> "850ms", 12_300 -> "12.3s", 4_000_000 -> "1h6m". */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** "90", "90s", "500ms", "5m", "2h", "1d" -> milliseconds (a bare number is seconds). */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (use 500ms, 30s, 5m, 2h or 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function short(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
