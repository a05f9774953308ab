/**
 * Issue 13: "a replay of every test game ends in exactly the final state the players saw".
 * Every final view (`game_over`, with a replay id) that any TestClient of a seated player
 * receives, in any test file, is checked here: the replay served for it by the node that sent
 * it (`GET /api/replays/{id}`), folded with the engine, must give exactly that view. The check
 * starts the moment the frame arrives (the node is up then: fault tests kill nodes later) and
 * `replay-audit-setup.ts` fails the test after which a check found a difference.
 *
 * What cannot be checked (the node went away before answering, a test's own REPLAY_MAX_EVENTS
 * below the game's length) is counted and printed, never silently passed as checked.
 */
import { isDeepStrictEqual } from 'node:util';
import { viewFor } from '../../src/game/index.js';
import { foldReplay } from './replay.js';

type Doc = { events: Array<{ seq: number; type: string; player_id: string | null; data: unknown }> };
type Fetched = { doc: Doc } | { skip: string } | { fail: string };

const documents = new Map<string, Promise<Fetched>>();
const seenViews = new Set<string>();
const replays = new Set<string>();
/** Every node port a client of this file connected to (the latest last). */
const ports = new Set<number>();
let pending: Array<Promise<void>> = [];
let failures: string[] = [];
export const auditTotals = { views: 0, replays: 0, skipped: new Map<string, number>() };

/** The replay document of `replayId` from the node on `port`, retried while the node is busy. */
async function fetchDocument(port: number, replayId: string): Promise<Fetched> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${port}/api/replays/${replayId}`, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      return { skip: `node unreachable (${(error as Error).name})` };
    }
    const body = (await res.json().catch(() => null)) as Doc & { error?: string };
    if (res.status === 200) return { doc: body };
    if (res.status === 413) return { skip: 'longer than the test node’s REPLAY_MAX_EVENTS' };
    // Busy (REPLAY_CONCURRENCY), or the store restarting under a fault test: try again.
    if (res.status === 503 && attempt < 50) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    return { fail: `GET /api/replays/${replayId} answered ${res.status} ${JSON.stringify(body)}` };
  }
}

async function check(port: number, seq: number, view: Record<string, any>): Promise<void> {
  // Asked once per node: a node gone away does not keep another client's node from answering.
  const ask = (at: number) => {
    const key = `${view.replay_id}@${at}`;
    let fetched = documents.get(key);
    if (!fetched) documents.set(key, (fetched = fetchDocument(at, view.replay_id)));
    return fetched;
  };
  let got = await ask(port);
  // Its node went away (a fault test's kill, a drain): any other node of the file may answer.
  for (const other of [...ports].reverse()) if ('skip' in got && other !== port) got = await ask(other);
  if ('skip' in got) {
    auditTotals.skipped.set(got.skip, (auditTotals.skipped.get(got.skip) ?? 0) + 1);
    return;
  }
  if ('fail' in got) return void failures.push(got.fail);
  // A view after a seat left the finished game (a player going back to the start) is no longer
  // the state at the end, which is where the replay stops (at game_ended).
  if (seq > (got.doc.events.at(-1)?.seq ?? 0)) {
    auditTotals.skipped.set('views after a seat left the finished game', (auditTotals.skipped.get('views after a seat left the finished game') ?? 0) + 1);
    return;
  }
  if (JSON.stringify(got.doc).includes('"token_hash":"')) failures.push(`replay ${view.replay_id} carries a token hash`);
  // Presence and the spectator count are the room's runtime data: taken from the view itself.
  const connected = new Set<string>(view.players.filter((p: { connected: boolean }) => p.connected).map((p: { id: string }) => p.id));
  let replayed: unknown;
  try {
    replayed = viewFor(foldReplay(got.doc), view.you, connected, { next_round_at: view.next_round_at }, view.spectators);
  } catch (error) {
    return void failures.push(`replay ${view.replay_id} does not fold: ${(error as Error).message}`);
  }
  if (isDeepStrictEqual(replayed, view)) auditTotals.views++;
  else failures.push(`replay ${view.replay_id} ends in another state than ${view.you} saw:\nseen     ${JSON.stringify(view)}\nreplayed ${JSON.stringify(replayed)}`);
}

/** Called for every frame a TestClient takes (after patches are applied). */
export function auditFrame(port: number, frame: Record<string, any>): void {
  ports.delete(port);
  ports.add(port);
  if (frame.type !== 'state' && frame.type !== 'welcome') return;
  const view = frame.state;
  if (view?.phase !== 'game_over' || typeof view.replay_id !== 'string' || typeof view.you !== 'string') return;
  const key = JSON.stringify(view);
  if (seenViews.has(key)) return;
  if (!replays.has(view.replay_id)) auditTotals.replays++;
  replays.add(view.replay_id);
  seenViews.add(key);
  pending.push(check(port, frame.seq, view).catch((error: unknown) => void failures.push(`audit failed: ${(error as Error).message}`)));
}

/** Waits for the checks started so far; the differences found since the last call. */
export async function settleAudit(): Promise<string[]> {
  while (pending.length > 0) {
    const waiting = pending;
    pending = [];
    await Promise.all(waiting);
  }
  const found = failures;
  failures = [];
  return found;
}
