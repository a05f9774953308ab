/**
 * The page's connection to the cluster, shared by the modules that send (input, navigation,
 * messages): main.ts creates it once and hands it here.
 */
import type { Connection } from './connection.js';
import { ui } from './store.js';

let current: Connection | null = null;

export function useConnection(connection: Connection): void {
  current = connection;
}

export function connection(): Connection {
  if (!current) throw new Error('no connection yet');
  return current;
}

/**
 * A game command: sent only while the connection is up. While it is down nothing is sent,
 * rather than queued to take effect seconds later when nobody expects it (the controls look
 * disabled meanwhile, under the banner).
 */
export function sendGame(message: Record<string, unknown>): void {
  if (ui.status !== 'open') return;
  connection().send(message);
}
