/**
 * The connection to whichever node answers: reconnects by itself with exponential backoff
 * and jitter after a dropped socket or a node's `reconnect` message, and resumes the seat
 * with the stored token. Commands wait in a queue while disconnected. It asks for patch frames
 * and hands on the `state` each one stands for (view-sync.ts), so the screens see whole views.
 * A seated page that hears nothing for a while asks the node (`ping`), and one that gets no
 * answer goes elsewhere (liveness.ts), as does a socket that does not open.
 */
import { Liveness, LIVENESS_TICK_MS, OPEN_TIMEOUT_MS } from './liveness.js';
import { openFirst } from './open-first.js';
import { serverNow } from './server-clock.js';
import { reconnectDelay, TOLD_TO_GO_SPREAD_MS } from './reconnect-delay.js';
import { ViewSync } from './view-sync.js';

export type ServerMessage = Record<string, any> & { type: string };

export interface ConnectionEvents {
  message(message: ServerMessage): void;
  status(status: 'connecting' | 'open' | 'reconnecting'): void;
}

const TOKEN_KEY = 'golf:token';
/** The server closes a socket that took no seat for a while: reopened when there is something to send. */
const SEAT_TIMEOUT_CLOSE = 4000;
/** How long a socket left for another (overlap) is kept for the answers still owed on it. */
const OWED_WAIT_MS = 5000;

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class Connection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private queue: string[] = [];
  private counter = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private closedByUs = false;
  private resumeId: string | null = null;
  /** The room watched as a spectator (no seat, no token): watched again after every reconnect. */
  private watching: string | null = null;
  private watchId: string | null = null;
  /** Closed by the server for sitting without a seat: nothing to recover, nothing to show. */
  private idle = false;
  private readonly views = new ViewSync();
  private readonly liveness = new Liveness();
  /** Commands sent and not yet answered (ack or error): a node sitting on one is asked sooner. */
  private readonly unanswered = new Set<string>();
  private livenessTimer: ReturnType<typeof setInterval> | null = null;
  /** The socket being opened while the current one is still served (`reconnect` with `overlap`). */
  private pending: WebSocket | null = null;
  /** Closes the sockets still opening (open-first.ts), if a try is under way. */
  private cancelOpening: (() => void) | null = null;
  /** The last socket was left for a node taken for hung: the next try opens two at once. */
  private leftHung = false;

  constructor(
    private readonly url: string,
    private readonly events: ConnectionEvents,
  ) {}

  start(): void {
    this.open();
  }

  /** Sends a command with a fresh id (safe to retry: the server applies an id once). */
  send(message: Record<string, unknown>): string {
    const id = `${this.idPrefix}-${++this.counter}`;
    const text = JSON.stringify({ ...message, id });
    this.unanswered.add(id);
    this.liveness.awaitingAnswer(true, Date.now());
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
    if (this.idle) {
      this.idle = false;
      this.open();
    }
    return id;
  }

  /**
   * Watches `room` as a spectator from now on (null: stop; the caller sends `leave`). A node
   * going away or a dropped socket is followed by watching again, as a seat is resumed.
   */
  watch(room: string | null): void {
    this.watching = room;
    if (room && this.ws?.readyState === WebSocket.OPEN) this.sendWatch(this.ws);
    else if (room && this.idle) {
      this.idle = false;
      this.open();
    }
  }

  private sendWatch(ws: WebSocket): void {
    this.watchId = `${this.idPrefix}-watch-${++this.counter}`;
    ws.send(JSON.stringify({ type: 'watch', room: this.watching, id: this.watchId }));
  }

  private open(): void {
    this.events.status(this.attempt === 0 ? 'connecting' : 'reconnecting');
    this.cancelOpening?.();
    this.cancelOpening = openFirst(
      () => new WebSocket(this.url),
      (ws) => {
        this.cancelOpening = null;
        this.ws = ws;
        this.wire(ws);
        this.opened(ws);
      },
      () => {
        this.cancelOpening = null;
        this.retry();
      },
      this.leftHung ? 2 : 1,
    );
    this.leftHung = false;
  }

  /** The page's socket `ws` opened: resume (or watch), then what waited in the queue. */
  private opened(ws: WebSocket): void {
    this.liveness.heard(Date.now());
    this.watchLiveness();
    this.attempt = 0;
    this.events.status('open');
    // A new connection numbers its views anew: patches follow its own first view.
    this.views.reset();
    ws.send(JSON.stringify({ type: 'hello', accept: ['patch'] }));
    const token = storedToken();
    // Resume first, so that queued commands act for the seat.
    if (token) {
      this.resumeId = `${this.idPrefix}-resume-${++this.counter}`;
      ws.send(JSON.stringify({ type: 'resume', token, id: this.resumeId }));
    } else if (this.watching) this.sendWatch(ws);
    for (const text of this.queue.splice(0)) ws.send(text);
  }

  /** The handlers of the page's socket `ws`, open. */
  private wire(ws: WebSocket): void {
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.liveness.heard(Date.now());
      const taken = this.views.take(JSON.parse(String(event.data)) as ServerMessage);
      // A patch that does not follow the view held: ask for the whole view.
      if (taken.sync) ws.send(JSON.stringify({ type: 'sync' }));
      if (!taken.frame || taken.frame.type === 'hello') return;
      const message = taken.frame as ServerMessage;
      if ((message.type === 'ack' || message.type === 'error') && typeof message.id === 'string') this.unanswered.delete(message.id);
      if (message.type === 'state' || message.type === 'welcome') {
        // The next hole's start, a deadline on the node's clock, on this device's.
        const next = message.state?.next_round_at;
        this.liveness.phase(message.state?.phase, typeof next === 'number' ? Date.now() + (next - serverNow()) : null);
      }
      if (message.type === 'error' && (message.id === this.resumeId || message.id === this.watchId) && message.code === 'unavailable') {
        // The room is still moving to this node (its old node just died): try again shortly.
        this.retry();
        return;
      }
      if (message.type === 'reconnect' && message.overlap === true && (storedToken() || this.watching)) {
        // The node is going away but serves this socket until it is closed: resume on another
        // first, then close this one (overlap), so that nothing waits on the move.
        this.overlap();
        return;
      }
      if (message.type === 'reconnect') {
        // The node is going away (its rooms handed over already): move to another right away,
        // spread over 200 ms so that a drained node's players do not all arrive at once.
        this.retry(Math.random() * TOLD_TO_GO_SPREAD_MS);
        return;
      }
      this.events.message(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws || this.closedByUs) return;
      if (event.code === SEAT_TIMEOUT_CLOSE && !storedToken() && !this.watching) {
        this.ws = null;
        this.idle = true;
        return;
      }
      this.retry();
    };
    ws.onerror = () => ws.close();
  }

  /**
   * Opens another socket and resumes (or watches) there while the current one still serves;
   * once welcomed there, it is the page's, and the old one is closed as soon as the answers
   * still owed on it are in (or after a while). A resume refused (the room still moving) is
   * tried again shortly; should the old socket close first, its close reconnects as ever.
   */
  private overlap(): void {
    if (this.pending) return;
    const ws = new WebSocket(this.url);
    this.pending = ws;
    let askId: string | null = null;
    const giveUp = () => {
      if (this.pending !== ws) return;
      this.pending = null;
      clearTimeout(opening);
      ws.onclose = null;
      ws.close();
      // Again from the socket still being left, not from one a reconnect opened meanwhile.
      const leaving = this.ws;
      setTimeout(() => {
        if (this.ws && this.ws === leaving && this.ws.readyState === WebSocket.OPEN && !this.pending) this.overlap();
      }, 250);
    };
    const opening = setTimeout(giveUp, OPEN_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(opening);
      ws.send(JSON.stringify({ type: 'hello', accept: ['patch'] }));
      const token = storedToken();
      askId = `${this.idPrefix}-${token ? 'resume' : 'watch'}-${++this.counter}`;
      ws.send(JSON.stringify(token ? { type: 'resume', token, id: askId } : { type: 'watch', room: this.watching, id: askId }));
    };
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as ServerMessage;
      if (frame.type === 'error' && frame.id === askId) return giveUp();
      if (frame.type !== 'welcome' || this.pending !== ws) return;
      // Welcomed: this socket is the page's from now on.
      const old = this.ws;
      this.pending = null;
      this.ws = ws;
      if (this.watching && !storedToken()) this.watchId = askId;
      else this.resumeId = askId;
      this.views.reset();
      this.wire(ws);
      if (old) this.retire(old);
      ws.onmessage?.(event);
      for (const text of this.queue.splice(0)) ws.send(text);
    };
    ws.onclose = () => giveUp();
    ws.onerror = () => ws.close();
  }

  /**
   * The socket the page left for another (overlap): only the answers still owed on it are
   * taken from it; it is closed once they are in, or after OWED_WAIT_MS.
   */
  private retire(old: WebSocket): void {
    const owed = new Set(this.unanswered);
    const close = () => {
      clearTimeout(timer);
      old.onmessage = null;
      old.onclose = null;
      old.close();
    };
    const timer = setTimeout(close, OWED_WAIT_MS);
    old.onclose = null;
    old.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as ServerMessage;
      if ((frame.type !== 'ack' && frame.type !== 'error') || typeof frame.id !== 'string' || !owed.has(frame.id)) return;
      owed.delete(frame.id);
      this.unanswered.delete(frame.id);
      this.events.message(frame);
      if (owed.size === 0) close();
    };
    if (owed.size === 0) close();
  }

  /** One timer per page: pings a quiet node, and leaves one that does not answer. */
  private watchLiveness(): void {
    this.livenessTimer ??= setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN || (!storedToken() && !this.watching)) return;
      const now = Date.now();
      this.liveness.awaitingAnswer(this.unanswered.size > 0, now);
      const action = this.liveness.check(now);
      if (action === 'ping') ws.send(JSON.stringify({ type: 'ping', id: `${this.idPrefix}-ping-${++this.counter}` }));
      else if (action === 'leave') {
        this.leftHung = true;
        this.retry(Math.random() * TOLD_TO_GO_SPREAD_MS);
      }
    }, LIVENESS_TICK_MS);
  }

  private retry(delay?: number): void {
    const ws = this.ws;
    this.ws = null;
    this.cancelOpening?.();
    this.cancelOpening = null;
    // A socket opening alongside (overlap) is dropped: the reconnect below replaces both.
    const pending = this.pending;
    this.pending = null;
    if (pending) {
      pending.onclose = null;
      pending.close();
    }
    if (ws && ws.readyState <= WebSocket.OPEN) {
      ws.onclose = null;
      ws.close();
    }
    // What was sent on that socket is not sent again by this page: no answer is coming.
    this.unanswered.clear();
    this.attempt += 1;
    this.events.status('reconnecting');
    setTimeout(() => this.open(), delay ?? reconnectDelay(this.attempt));
  }
}
