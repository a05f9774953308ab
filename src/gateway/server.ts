import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { RoomRuntime } from '../runtime/runtime.js';
import { DEFAULT_LIMITS, Session, type SessionLimits } from './session.js';

/** Bigger frames are cut by ws (close 1009); up to this size they get a `bad_request`. */
const MAX_PAYLOAD = 1024 * 1024;

export interface GatewayOptions {
  pingMs: number;
  limits?: Partial<SessionLimits>;
  accepting(): boolean;
}

/** The WebSocket gateway at /ws: one Session per connection, heartbeats, drain. */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<WebSocket, Session>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    server: Server,
    private readonly runtime: RoomRuntime,
    private readonly options: GatewayOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      if (!this.options.accepting()) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    this.heartbeat = setInterval(() => this.beat(), options.pingMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  private accept(ws: WebSocket): void {
    const session = new Session(ws, this.runtime, this.log, { ...DEFAULT_LIMITS, ...this.options.limits });
    this.sessions.set(ws, session);
    this.metrics?.connections.set(this.sessions.size);
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      session.alive = true;
      session.handle(isBinary ? '\u0000binary' : data.toString('utf8'));
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

  /** Every client is told to reconnect elsewhere (then 1012); resolves when all are closed. */
  async closeAll(reason: string, timeoutMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    for (const session of this.sessions.values()) session.goAway(reason);
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.sessions.keys()) ws.terminate();
    this.wss.close();
  }
}
