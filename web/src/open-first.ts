/**
 * Opening a socket to whichever node opens one first. A hung node's kernel accepts TCP and
 * nobody answers the upgrade, so a socket the load balancer sent there neither opens nor
 * closes until the open timeout. While none has opened, another is opened alongside after
 * ANOTHER_SOCKET_MS, the wait growing by half each time (0.3, 0.75, 1.4, 2.4 s...), MAX_TRIES
 * in all (the balancer most likely sends each to another node); the first to open is kept,
 * the rest closed unused, and each is dropped at its own open timeout. With one socket at a
 * time, a player whose next try landed on the hung node again waited out the open timeout and
 * a backoff (bench-failover, SIGSTOP: the tail of 5.5 s).
 *
 * The wait grows, and no socket is dropped for a newer one, because a node that is only busy
 * (restoring a dead peer's rooms) answers late but answers: with a socket every 0.3 s and the
 * oldest of four dropped, a quarter of a SIGKILL's reconnecting players opened two to seven,
 * each a handshake more for the busy nodes, and the last ones waited longest.
 *
 * Only sockets that hang get company: one that closes before opening (a refusal) ends the try
 * when it was the last one opening, and the caller backs off as it would for any failure.
 * The web client (connection.ts) and the benchmarks' bots (scripts/lib/chaos-bot.ts) share it.
 */
import { ANOTHER_SOCKET_MS, MAX_TRIES, OPEN_TIMEOUT_MS } from './liveness.js';

/** What of a WebSocket this needs: the browser's and the `ws` package's both have it. */
export interface OpeningSocket {
  onopen: ((event?: any) => void) | null;
  onclose: ((event?: any) => void) | null;
  onerror: ((event?: any) => void) | null;
  close(): void;
}

/**
 * Opens sockets made by `make` (see above; each wait give or take 40 %) until one opens (handed to `opened`, its handlers cleared for the
 * caller's own) or every one tried failed (`failed`). Returns a cancel, which closes whatever is
 * still opening.
 */
export function openFirst<S extends OpeningSocket>(
  make: () => S,
  opened: (socket: S) => void,
  failed: () => void,
  /** Sockets opened together at the start: 2 when leaving a node taken for hung (one in three of the first lands on it again with three nodes). */
  together = 1,
  random: () => number = Math.random,
): () => void {
  const opening = new Map<S, ReturnType<typeof setTimeout>>();
  let started = 0;
  let done = false;
  let next: ReturnType<typeof setTimeout> | null = null;

  const release = (socket: S) => {
    clearTimeout(opening.get(socket));
    opening.delete(socket);
    socket.onopen = null;
    socket.onclose = null;
    socket.onerror = null;
  };
  const finish = () => {
    done = true;
    if (next) clearTimeout(next);
    for (const socket of [...opening.keys()]) {
      release(socket);
      socket.close();
    }
  };
  const lost = (socket: S) => {
    if (!opening.has(socket)) return;
    release(socket);
    socket.close();
    if (done || opening.size > 0) return;
    finish();
    failed();
  };
  const start = () => {
    next = null;
    if (done) return;
    started++;
    const socket = make();
    opening.set(
      socket,
      setTimeout(() => lost(socket), OPEN_TIMEOUT_MS),
    );
    socket.onopen = () => {
      if (done || !opening.has(socket)) return;
      release(socket);
      finish();
      opened(socket);
    };
    socket.onclose = () => lost(socket);
    socket.onerror = () => lost(socket);
    if (started < together) return start();
    // Jittered: a round-robin balancer sends a client's sockets to one node again and again
    // when every retrying client keeps the same beat (bench-failover: four or five in a row
    // landed on the hung node, the connections between two of one client's always a multiple
    // of the number of nodes).
    if (started < MAX_TRIES) next = setTimeout(start, ANOTHER_SOCKET_MS * 1.5 ** (started - together) * (0.6 + 0.8 * random()));
  };
  start();
  return () => {
    if (!done) finish();
  };
}
