import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ReplayGuesses } from '../http/replays.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { RoomRuntime } from '../runtime/runtime.js';
import { clientIp, limitKey } from './client-ip.js';
import { AddressLimits, DEFAULT_MAX_TRACKED, type AddressLimitsConfig } from './limits.js';
import { MAX_FRAME_BYTES } from './protocol.js';
import { DEFAULT_LIMITS, Session, type SessionLimits } from './session.js';

export interface GatewayOptions {
  pingMs: number;
  /**
   * permessage-deflate with clients that offer it (off by default: it costs CPU per frame and a
   * zlib context per socket; see README "Cost per move").
   */
  deflate?: boolean;
  limits?: Partial<SessionLimits>;
  accepting(): boolean;
  /** Caps and rates per client address (see limits.ts). */
  addresses: Omit<AddressLimitsConfig, 'maxTracked'> & { maxTracked?: number };
  /** How many proxies of ours stand in front (X-Forwarded-For is believed that far). */
  trustProxy: number;
  /** Origins a browser may open a socket from; null: any. */
  allowedOrigins: readonly string[] | null;
}

/**
 * Compression when WS_DEFLATE is on: every frame (a patch is ~300 bytes, under ws's default
 * 1 KB threshold), with the context kept between frames (a patch repeats the previous one's
 * paths and keys, which is what makes it shrink), in a small window and at a low level to
 * bound the memory and CPU each socket costs.
 */
const DEFLATE = {
  threshold: 0,
  serverMaxWindowBits: 11,
  clientMaxWindowBits: 11,
  zlibDeflateOptions: { level: 1, memLevel: 4 },
} as const;

/** How often idle per-address state is swept away. */
const SWEEP_MS = 60_000;

/** The WebSocket gateway at /ws: admission, one Session per connection, heartbeats, drain. */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<WebSocket, Session>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;
  readonly addresses: AddressLimits;
  /** Every session's limits (one object for all: each connection keeps a reference to it). */
  private readonly sessionLimits: SessionLimits;

  constructor(
    server: Server,
    private readonly runtime: RoomRuntime,
    private readonly options: GatewayOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    // ws refuses a bigger frame by the length in its header (close 1009), before reading it.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: options.deflate ? DEFLATE : false });
    this.addresses = new AddressLimits({ maxTracked: DEFAULT_MAX_TRACKED, ...options.addresses });
    this.sessionLimits = { ...DEFAULT_LIMITS, ...options.limits };
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.heartbeat = setInterval(() => this.beat(), options.pingMs);
    this.heartbeat.unref();
    this.sweeper = setInterval(() => this.addresses.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /**
   * The replay lookups an HTTP request's address may make: misses shared with its unknown room
   * codes (the same GUESS_LIMIT), the address found as for a WebSocket (TRUST_PROXY).
   */
  replayGuesses(req: IncomingMessage): ReplayGuesses {
    const gate = this.addresses.gate(limitKey(clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.options.trustProxy)));
    return { take: () => gate.takeGuess(), refund: () => gate.refundGuess(), retryAfterSeconds: Math.ceil(this.options.addresses.guessWindowMs / 1000) };
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Everything that can be refused is refused here, with a plain HTTP answer, before ws runs. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node leaves an upgraded socket without an error listener: a reset would crash the node.
    socket.on('error', () => {});
    if ((req.url ?? '').split('?')[0] !== '/ws') return this.refuse(socket, 404, 'not_found');
    if (!this.options.accepting()) return this.refuse(socket, 503, 'draining');
    if (!this.originAllowed(req.headers.origin)) return this.refuse(socket, 403, 'origin');
    const key = limitKey(clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.options.trustProxy));
    const admission = this.addresses.admit(key);
    if (admission === 'node_full') return this.refuse(socket, 503, 'node_full');
    if (admission === 'address_full') return this.refuse(socket, 429, 'address_full');
    // The slot is the socket's until it closes, whatever happens to the handshake.
    socket.once('close', () => this.addresses.release(key));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, key, socket));
  }

  /** Browsers always send Origin; programs need not, and could write any, so none is fine. */
  private originAllowed(origin: string | undefined): boolean {
    const allowed = this.options.allowedOrigins;
    if (!allowed || origin === undefined) return true;
    try {
      return allowed.includes(new URL(origin).origin);
    } catch {
      return false;
    }
  }

  private refuse(socket: Duplex, status: number, reason: string): void {
    this.metrics?.upgradesRefused.inc({ reason });
    this.log.debug({ status, reason }, 'upgrade refused');
    const body = `${STATUS_CODES[status] ?? 'refused'}\n`;
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
      ...(status === 503 || status === 429 ? { 'retry-after': '5' } : {}),
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${body}`);
  }

  private accept(ws: WebSocket, key: string, socket: Duplex): void {
    const session = new Session(ws, this.runtime, this.log, this.sessionLimits, this.addresses.gate(key), socket);
    this.sessions.set(ws, session);
    this.metrics?.connections.set(this.sessions.size);
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      session.alive = true;
      // One Buffer per frame (ws's default binaryType "nodebuffer").
      session.handle(data as Buffer, isBinary);
    });
    ws.on('close', () => {
      this.sessions.delete(ws);
      this.metrics?.connections.set(this.sessions.size);
      session.onClose();
    });
    ws.on('error', (error) => this.log.debug({ err: error.message }, 'websocket error'));
  }

  /** Drops sockets that did not answer the previous ping. */
  private beat(): void {
    for (const [ws, session] of this.sessions) {
      if (!session.alive) {
        ws.terminate();
        continue;
      }
      session.alive = false;
      ws.ping();
    }
  }

  /** Every client is told to reconnect elsewhere (if not told already) and closed (1012); the gateway stays up. */
  closeClients(reason: string): void {
    for (const session of this.sessions.values()) session.goAway(reason);
  }

  /**
   * Every client is told to reconnect elsewhere, its socket left open (what it sent meanwhile is
   * still answered here): a drain does this first, so that clients reconnect while their rooms
   * move. closeAll closes them later.
   */
  sendAllAway(reason: string): void {
    for (const session of this.sessions.values()) session.sendAway(reason);
  }

  /**
   * Every client is told to reconnect elsewhere while its socket stays served (`overlap`: see
   * Session.sendAway), and given up to `timeoutMs` to close it once resumed elsewhere: a drain
   * whose rooms are all on peers does this before it says it is gone, so that what the sockets
   * here watch (through the peers) keeps coming until the clients have moved. Resolves when
   * every client left, or at the bound (closeAll closes what is left).
   */
  async moveClients(reason: string, timeoutMs: number): Promise<void> {
    for (const session of this.sessions.values()) session.sendAway(reason, true);
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Every client is told to reconnect elsewhere (if not told already), then 1012; resolves when all are closed. */
  async closeAll(reason: string, timeoutMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    this.closeClients(reason);
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.sessions.keys()) ws.terminate();
    this.wss.close();
  }
}
