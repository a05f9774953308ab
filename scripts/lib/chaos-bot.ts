/**
 * A player for chaos runs that keeps playing through anything: it resumes its seat on any node
 * after a disconnect, re-sends its unacknowledged move by the same id, and records what it was
 * told (acks with their times, and a digest of the public part of every view it saw), so the run
 * can check afterwards that nothing acknowledged was lost or doubled and that no two players saw
 * different tables at the same sequence.
 */
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { chooseCpuMove, CPU_PROFILES } from '../../src/ai/index.js';
import { simulationRng } from '../../src/ai/selfplay.js';
import type { GameView } from '../../src/game/view.js';
import { Liveness, LIVENESS_TICK_MS, OPEN_TIMEOUT_MS } from '../../web/src/liveness.js';
import { openFirst } from '../../web/src/open-first.js';
import { reconnectDelay, TOLD_TO_GO_SPREAD_MS } from '../../web/src/reconnect-delay.js';

/**
 * The table as everyone sees it: the view without what is the viewer's own or per-node presence.
 * Keys are sorted: a room restored from its events has its options and cards in PostgreSQL's
 * jsonb key order, the same table written differently (not two tables).
 */
export function publicDigest(view: GameView): string {
  const { you: _you, must: _must, drawn_card: _drawn, players, ...rest } = view as GameView & Record<string, unknown>;
  const table = { ...rest, players: players.map(({ connected: _c, ...p }) => p) };
  return createHash('sha1').update(canonical(table)).digest('base64').slice(0, 16);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class ChaosBot {
  ws: WebSocket | null = null;
  view: GameView | null = null;
  token = '';
  room = '';
  seq = 0;
  /** Acknowledged command ids, with their type, the sequence and the time of the ack. */
  readonly acked = new Map<string, { type: string; seq: number; at: number }>();
  /** game_id|seq -> digest of the public view seen there. */
  readonly seen = new Map<string, string>();
  /** Sequences that went backwards in what this player was shown. */
  backwards = 0;
  reconnects = 0;
  /** Sockets opened so far (numbered in the trace). */
  private sockets = 0;
  /** The socket was left for a hung node: the next try opens two at once. */
  private leftHungNow = false;
  /** Closes the sockets still opening (open-first.ts), while connect() is under way. */
  private cancelOpening: (() => void) | null = null;
  /** When its socket closed on it, and when it was seated (welcomed) again: a player's time out of its seat. */
  readonly closedAt: number[] = [];
  readonly seatedAt: number[] = [];
  /**
   * When each frame arrived, with the phase, game and sequence of the player's view after it
   * (a player's stalls: see bench-failover).
   */
  readonly frames: Array<{ at: number; phase: string | undefined; game: string | undefined; seq: number }> = [];
  /** Each command: its id, first sent, and when it was answered (ack or a final error); not yet answered while in flight. */
  readonly commands: Array<{ id: string; sent: number; answered?: number }> = [];
  done = false;
  /** What happened to this player, with times (bench-failover --trace prints it around each fault). */
  readonly trace: Array<[number, string]> = [];
  private inflight: { id: string; type: string; text: string; record: { id: string; sent: number; answered?: number } } | null = null;
  private counter = 0;
  /**
   * Its command ids' prefix. Eight bytes: with three, two of 400 bots shared one about once in
   * 200 runs, and the check that nothing was applied twice (by command id) then counted the
   * other's moves (bench-failover once reported 234 "applied twice" so).
   */
  private readonly prefix = randomBytes(8).toString('hex');
  private resumeId: string | null = null;
  private toldToGo = false;
  /** Sockets tried since one last opened (the web client's backoff). */
  private attempt = 0;
  /** The socket being opened while the old one is still served (a `reconnect` with `overlap`). */
  private pending: WebSocket | null = null;
  /** Times this player moved without a gap (`reconnect` with `overlap`). */
  overlaps = 0;
  private waiters: Array<(f: Record<string, any>) => boolean> = [];
  private thinking: NodeJS.Timeout | null = null;
  /** As the web client: a quiet node is asked, one that does not answer is left (web/src/liveness.ts). */
  private readonly liveness = new Liveness();
  private livenessTimer: NodeJS.Timeout | null = null;
  /** Times this player left a node that did not answer (hung). */
  leftHung = 0;

  constructor(
    private readonly port: () => number,
    private readonly profile: number,
    private readonly thinkMs: number,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve) => {
      // As the web client: another socket alongside one slow to open, the first to open kept.
      this.ws = null;
      if (this.done) return resolve();
      this.cancelOpening = openFirst(
        () => {
          const ws = new WebSocket(`ws://127.0.0.1:${this.port()}/ws`);
          ws.on('error', () => {});
          const k = ++this.sockets;
          this.trace.push([Date.now(), `socket ${k} opening`]);
          ws.once('close', () => ws.readyState === WebSocket.CLOSED && this.ws !== ws && this.trace.push([Date.now(), `socket ${k} closed`]));
          return ws;
        },
        (ws) => {
          this.cancelOpening = null;
          this.ws = ws;
          this.wire(ws);
          this.opened(ws);
          resolve();
        },
        () => {
          this.cancelOpening = null;
          resolve();
          this.reconnect();
        },
        this.leftHungNow ? 2 : 1,
      );
      this.leftHungNow = false;
    });
  }

  /** The frames of `ws`, while it is the player's socket (one replaced by another, see overlap, is not listened to any more). */
  private listen(ws: WebSocket): void {
    ws.on('message', (data) => this.ws === ws && this.onFrame(JSON.parse(data.toString())));
  }

  /** The listeners of the player's socket, once open. */
  private wire(ws: WebSocket): void {
    this.listen(ws);
    ws.on('close', () => this.closed(ws));
  }

  /** The player's socket `ws` opened: resume, then what was in flight. */
  private opened(ws: WebSocket): void {
    this.attempt = 0;
    this.liveness.heard(Date.now());
    this.livenessTimer ??= setInterval(() => this.checkLiveness(), LIVENESS_TICK_MS);
    this.trace.push([Date.now(), `open${this.token ? ' resume' : ''}${this.inflight ? ' +inflight ' + this.inflight.type : ''}`]);
    if (this.token) {
      this.resumeId = `${this.prefix}-r${++this.counter}`;
      ws.send(JSON.stringify({ type: 'resume', token: this.token, id: this.resumeId }));
    }
    if (this.inflight) ws.send(this.inflight.text);
  }

  request(message: Record<string, unknown>): Promise<Record<string, any>> {
    return new Promise((resolve) => {
      const id = this.send(message);
      this.waiters.push((f) => (f.id === id && (f.type === 'ack' || f.type === 'error') ? (resolve(f), true) : false));
    });
  }

  /** Plays on by itself; also nudges after a quiet spell (a frame lost, a room that moved). */
  tick(): void {
    if (this.inflight && this.ws?.readyState === WebSocket.OPEN) this.ws.send(this.inflight.text);
    else this.act();
  }

  stop(): void {
    this.done = true;
    this.cancelOpening?.();
    this.cancelOpening = null;
    this.pending?.terminate();
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.thinking) clearTimeout(this.thinking);
    this.ws?.close();
  }

  private send(message: Record<string, unknown>): string {
    const id = `${this.prefix}-${++this.counter}`;
    const text = JSON.stringify({ ...message, id });
    const record: { id: string; sent: number; answered?: number } = { id, sent: Date.now() };
    this.commands.push(record);
    this.inflight = { id, type: String(message.type), text, record };
    this.liveness.awaitingAnswer(true, record.sent);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
    return id;
  }

  private checkLiveness(): void {
    const ws = this.ws;
    if (this.done || !ws || ws.readyState !== WebSocket.OPEN || !this.token) return;
    this.liveness.awaitingAnswer(this.inflight !== null, Date.now());
    const action = this.liveness.check(Date.now());
    if (action === 'ping') ws.send(JSON.stringify({ type: 'ping', id: `${this.prefix}-p${++this.counter}` }));
    else if (action === 'leave') {
      this.leftHung++;
      this.leftHungNow = true; // as the web client: two sockets at once for the next try
      this.toldToGo = true; // nothing to wait for: another node at once
      ws.terminate(); // its close reconnects, like any dropped socket
    }
  }

  private onFrame(f: Record<string, any>): void {
    this.liveness.heard(Date.now());
    this.trace.push([Date.now(), `${f.type}${f.code ? ' ' + f.code : ''}${f.id && f.id === this.resumeId ? ' (resume)' : ''}${f.seq !== undefined ? ' seq ' + f.seq : ''}${f.type === 'error' ? ' ' + String(f.message).slice(0, 60) : ''}`]);
    this.waiters = this.waiters.filter((w) => !w(f));
    if (f.type === 'welcome') {
      this.seatedAt.push(Date.now());
      this.token = f.token;
      this.room = f.room;
    }
    if (f.type === 'reconnect' && f.overlap === true && this.token) {
      // This socket stays served until closed: resume on another first, then close it.
      this.overlap();
      return;
    }
    if (f.type === 'reconnect' || (f.type === 'error' && f.id === this.resumeId)) {
      this.toldToGo = f.type === 'reconnect';
      // Told to go, or the seat could not be resumed yet (the room is moving): connect again.
      this.ws?.close();
      return;
    }
    if (f.type === 'ack' && this.inflight && f.id === this.inflight.id) {
      this.acked.set(f.id, { type: this.inflight.type, seq: f.seq, at: Date.now() });
      this.inflight.record.answered = Date.now();
      this.inflight = null;
    }
    if (f.type === 'error' && this.inflight && f.id === this.inflight.id) {
      if (f.code === 'unavailable' || f.code === 'rate_limited') {
        // Nothing changed, or the outcome is unknown: the same id again is safe either way.
        const pending = this.inflight;
        setTimeout(() => {
          if (this.inflight === pending && this.ws?.readyState === WebSocket.OPEN) this.ws.send(pending.text);
        }, 300);
        return;
      }
      this.inflight.record.answered = Date.now();
      this.inflight = null; // refused for a reason (the game moved on): look at the next state
    }
    if (f.type === 'state' || f.type === 'welcome') {
      const view = f.state as GameView;
      if (this.view && view.game_id === this.view.game_id && f.seq < this.seq) this.backwards++;
      this.view = view;
      this.liveness.phase(view.phase, view.next_round_at); // the nodes' clock is this machine's
      this.seq = f.seq;
      this.seen.set(`${view.game_id}|${f.seq}`, publicDigest(view));
    }
    this.frames.push({ at: Date.now(), phase: this.view?.phase, game: this.view?.game_id, seq: this.seq });
    this.act();
  }

  /** The player's socket `ws` closed: it connects again. */
  private closed(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.reconnect();
  }

  /** The player has no socket (its socket closed, or none opened): it connects again. */
  private reconnect(): void {
    if (this.done) return;
    // As the web client (connection.ts retry): a socket opening alongside (overlap) is dropped,
    // the reconnect below replaces both (welcomed meanwhile, it was a second live socket).
    const pending = this.pending;
    this.pending = null;
    pending?.terminate();
    this.reconnects++;
    this.closedAt.push(Date.now());
    this.trace.push([Date.now(), 'closed']);
    // As the web client: told to go (a draining node, or one that does not answer) at once,
    // spread a little; otherwise its backoff (the first try within 250 ms).
    const told = this.toldToGo;
    this.toldToGo = false;
    this.attempt++;
    setTimeout(() => void this.connect(), told ? Math.random() * TOLD_TO_GO_SPREAD_MS : reconnectDelay(this.attempt));
  }

  /**
   * Opens another socket and resumes there while the current one is still served; once
   * welcomed there, that one is the player's and the old one is closed (what was in flight on
   * it is sent again on the new one, by the same id). A resume refused (the room still moving)
   * is tried again shortly, the old socket serving meanwhile; should it close first, the
   * ordinary reconnect takes over.
   */
  private overlap(): void {
    if (this.pending || this.done) return;
    const ws = new WebSocket(`ws://127.0.0.1:${this.port()}/ws`);
    this.pending = ws;
    const resumeId = `${this.prefix}-r${++this.counter}`;
    const giveUp = (retry: boolean) => {
      if (this.pending !== ws) return;
      this.pending = null;
      ws.terminate();
      const old = this.ws;
      if (retry && old && old.readyState === WebSocket.OPEN) setTimeout(() => old === this.ws && this.overlap(), 50);
    };
    const opened = setTimeout(() => giveUp(true), OPEN_TIMEOUT_MS);
    ws.on('open', () => {
      clearTimeout(opened);
      this.trace.push([Date.now(), 'open overlap resume']);
      ws.send(JSON.stringify({ type: 'resume', token: this.token, id: resumeId }));
      if (this.inflight) ws.send(this.inflight.text);
    });
    ws.on('message', (data) => {
      if (this.ws === ws) return this.onFrame(JSON.parse(data.toString()));
      if (this.pending !== ws) return;
      const f = JSON.parse(data.toString()) as Record<string, any>;
      if (f.type === 'error' && f.id === resumeId) {
        this.trace.push([Date.now(), `overlap resume refused ${f.code}`]);
        return giveUp(true);
      }
      if (f.type !== 'welcome') return;
      // Welcomed: this socket is the player's now.
      const old = this.ws;
      this.pending = null;
      this.ws = ws;
      this.resumeId = resumeId;
      this.overlaps++;
      if (old) this.retire(old);
      // The old socket may have shown a later view than the resume's answer (views cross on
      // two sockets): the player keeps it; the new socket's next view follows the room.
      if (this.view && f.state?.game_id === this.view.game_id && f.seq < this.seq) {
        this.seatedAt.push(Date.now());
        this.trace.push([Date.now(), `welcome seq ${f.seq} (overlap; seq ${this.seq} held)`]);
        return;
      }
      this.onFrame(f);
    });
    ws.on('close', () => {
      clearTimeout(opened);
      giveUp(true);
      this.closed(ws);
    });
    ws.on('error', () => {});
  }

  /**
   * As the web client (connection.ts retire): the socket left for another keeps being read for
   * the answer still owed on it (a command sent there while the new one was opening), then is
   * closed, or after 5 s. Closed at once, that answer was lost, and the player waited for it
   * (bench-failover, SIGTERM: a second).
   */
  private retire(old: WebSocket): void {
    const owed = this.inflight?.id;
    if (!owed) return old.close();
    const timer = setTimeout(() => old.close(), 5000);
    timer.unref(); // a stopped bot does not hold the process
    old.removeAllListeners('message');
    old.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Record<string, any>;
      if ((f.type !== 'ack' && f.type !== 'error') || f.id !== owed) return;
      clearTimeout(timer);
      old.close();
      this.onFrame(f);
    });
  }

  private act(): void {
    if (this.done || this.inflight || this.thinking || !this.view?.must) return;
    this.thinking = setTimeout(() => {
      this.thinking = null;
      if (this.done || this.inflight || !this.view?.must) return;
      const move = chooseCpuMove(this.view, CPU_PROFILES[this.profile % 8]!, simulationRng('chaos-bot', this.prefix, this.seq, this.counter));
      if (move) {
        this.trace.push([Date.now(), `send ${move.type}`]);
        this.send(move);
      }
    }, this.thinkMs * (0.5 + Math.random()));
  }
}
