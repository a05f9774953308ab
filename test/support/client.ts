import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { ViewSync } from '../../web/src/view-sync.js';
import { auditFrame } from './replay-audit.js';

export type Frame = Record<string, any>;

export interface ClientOptions {
  /** Ask for patch frames (`hello`); they are applied and recorded as the `state` frames they stand for. */
  patches?: boolean;
  /** A patch frame to lose (not applied, as if never received): the client must notice and `sync`. */
  lose?: (patch: Frame) => boolean;
}

/** A protocol client for tests: records every frame, waits for replies and states. */
export class TestClient {
  readonly frames: Frame[] = [];
  /** Every frame as it came over the wire (patches as patches). */
  readonly raw: Frame[] = [];
  /** The view held from welcome, state and patch frames (when patches were asked for). */
  readonly sync = new ViewSync();
  readonly ws: WebSocket;
  private waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private counter = 0;
  /** Command ids are unique per client: a seat's ids are remembered across its connections. */
  private readonly idPrefix = randomBytes(3).toString('hex');
  closed: { code: number; reason: string } | null = null;
  playerId = '';
  token = '';
  room = '';

  private constructor(
    private readonly port: number,
    private readonly options: ClientOptions = {},
  ) {
    const url = `ws://127.0.0.1:${port}/ws`;
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const wire = JSON.parse(data.toString()) as Frame;
      this.raw.push(wire);
      let frame = wire;
      if (this.options.patches && (wire.type === 'welcome' || wire.type === 'state' || wire.type === 'patch')) {
        if (wire.type === 'patch' && this.options.lose?.(wire)) return;
        const taken = this.sync.take(wire as Frame & { type: string });
        if (taken.sync) this.ws.send(JSON.stringify({ type: 'sync' }));
        if (!taken.frame) return;
        frame = taken.frame;
      }
      this.frames.push(frame);
      auditFrame(this.port, frame);
      if (frame.type === 'welcome') {
        this.playerId = frame.player_id;
        this.token = frame.token;
        this.room = frame.room;
      }
      for (const w of [...this.waiters]) {
        if (w.test(frame)) {
          clearTimeout(w.timer);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`socket closed (${code}) while waiting`));
      }
    });
    this.ws.on('error', () => {});
  }

  static async connect(port: number, options: ClientOptions = {}): Promise<TestClient> {
    const client = new TestClient(port, options);
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    if (options.patches) {
      client.ws.send(JSON.stringify({ type: 'hello', accept: ['patch'] }));
      await client.waitFor((f) => f.type === 'hello');
    }
    return client;
  }

  /** The newest view this client got (from welcome or state). */
  get view(): Frame {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.type === 'state' || f.type === 'welcome') return f.state;
    }
    throw new Error('no view yet');
  }

  get seq(): number {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.type === 'state' || f.type === 'welcome') return f.seq;
    }
    return 0;
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  waitFor(test: (f: Frame) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<Frame> {
    const existing = this.frames.slice(fromIndex).find(test);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timed out waiting; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 600)}`));
      }, timeoutMs);
      this.waiters.push({ test, resolve, reject, timer });
    });
  }

  /** Sends a message with a fresh id and resolves with its ack or error. */
  async request(message: Frame, id = `${this.idPrefix}-${++this.counter}`): Promise<Frame> {
    const from = this.frames.length;
    this.ws.send(JSON.stringify({ ...message, id }));
    return this.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, 15_000, from);
  }

  /** Like request, but fails on an error reply. */
  async ok(message: Frame): Promise<Frame> {
    const reply = await this.request(message);
    if (reply.type !== 'ack') throw new Error(`${message.type} refused: ${reply.code}: ${reply.message}`);
    return reply;
  }

  waitForState(test: (view: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    try {
      if (test(this.view)) return Promise.resolve(this.view);
    } catch {
      // no view yet
    }
    return this.waitFor((f) => (f.type === 'state' || f.type === 'welcome') && test(f.state), timeoutMs, this.frames.length).then((f) => f.state);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }

  terminate(): void {
    this.ws.terminate();
  }
}
