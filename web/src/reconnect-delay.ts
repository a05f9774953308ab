/**
 * How long a client waits before opening its next socket. The web client (connection.ts) and the
 * benchmarks' bots (scripts/lib/chaos-bot.ts) share it, so that the failover figures are what a
 * player in a browser sees.
 */

/**
 * Told to go (`reconnect`: the node's rooms are handed over already) or leaving a node that does
 * not answer: at once, spread over this much so that a node's players do not all arrive together.
 */
export const TOLD_TO_GO_SPREAD_MS = 200;

/**
 * The wait before attempt `attempt` (1 for the first since the last socket opened). The first
 * comes at once, spread over 250 ms (a dead node's players all notice at the same moment); the
 * next ones back off: 250-750 ms, 0.5-1.5 s, ... up to 8 s.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  if (attempt <= 1) return random() * 250;
  return Math.min(8000, 250 * 2 ** Math.min(attempt - 1, 5) * (0.5 + random()));
}
