/**
 * Frames sent to one socket within one turn of the event loop (an ack and the view it produced,
 * say) leave in one write: the socket is corked at its first frame of the turn and uncorked when
 * the turn ends. One immediate uncorks every socket corked in the turn (not one immediate and
 * closure per socket: a move writes to every seat of its room).
 */
import type { Duplex } from 'node:stream';

export type Corkable = Pick<Duplex, 'cork' | 'uncork'>;

let corked = new Set<Corkable>();
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  const sockets = corked;
  corked = new Set();
  for (const socket of sockets) socket.uncork();
}

/** Corks `socket` until the end of this turn of the event loop (once, however often asked). */
export function corkForTurn(socket: Corkable): void {
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(uncorkAll);
  }
}
