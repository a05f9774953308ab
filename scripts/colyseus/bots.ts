/**
 * Bots for the Colyseus baseline (scripts/bench-node.ts drives them): rooms of 4 clients
 * playing the draw-then-place turn flow in a closed loop (each waits for the patch that shows
 * its move before the next; with a think time, it pauses before each move). A move's round
 * trip is the time from sending it to the state change that shows it (Colyseus has no acks).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Client, type Room } from '@colyseus/sdk';

interface TableView {
  order: string[];
  turn: number;
  drawn: number;
  moves: number;
}

class ColyseusBot {
  private room!: Room;
  private pending: { kind: 'draw' | 'place'; sent: bigint; moves: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Tables play only once every table is seated (as ours start their games after seating). */
  private started = false;
  private latest: TableView | null = null;
  stopped = false;

  constructor(
    private readonly think: number,
    private readonly stats: { rtt: RecordableHistogram; moves: number; bytes: number },
  ) {}

  async create(client: Client): Promise<string> {
    this.room = await client.create('golf');
    this.listen();
    return this.room.roomId;
  }

  async join(client: Client, roomId: string): Promise<void> {
    this.room = await client.joinById(roomId);
    this.listen();
  }

  private listen(): void {
    // Bytes received, as the socket delivers them (the payloads of its WebSocket messages).
    const ws = (this.room.connection as unknown as { transport: { ws: { addEventListener(type: 'message', f: (event: { data: ArrayBuffer | Buffer | string }) => void): void } } }).transport.ws;
    ws.addEventListener('message', (event) => {
      const data = event.data;
      this.stats.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    });
    this.room.onStateChange((state: unknown) => this.onState(state as TableView));
  }

  /** Lets the bot play from the state it last saw. */
  start(): void {
    this.started = true;
    if (this.latest) this.onState(this.latest);
  }

  private onState(state: TableView): void {
    this.latest = state;
    if (!this.started) return;
    const mine = state.order.length === 4 && state.order[state.turn % 4] === this.room.sessionId;
    if (this.pending) {
      const shown = this.pending.kind === 'draw' ? state.drawn >= 0 : state.moves > this.pending.moves;
      if (!shown) return;
      this.stats.rtt.record(Math.max(1, Math.round(Number(process.hrtime.bigint() - this.pending.sent) / 1000)));
      this.stats.moves++;
      this.pending = null;
    }
    if (!mine || this.stopped || this.timer) return;
    const act = () => {
      this.timer = null;
      if (this.stopped || this.pending) return;
      if (state.drawn < 0) {
        this.pending = { kind: 'draw', sent: process.hrtime.bigint(), moves: state.moves };
        this.room.send('draw', { source: Math.random() < 0.3 ? 'discard' : 'deck' });
      } else {
        this.pending = { kind: 'place', sent: process.hrtime.bigint(), moves: state.moves };
        if (Math.random() < 0.6) this.room.send('swap', { position: Math.floor(Math.random() * 6) });
        else this.room.send('discard');
      }
    };
    if (this.think > 0) this.timer = setTimeout(act, this.think * (0.5 + Math.random()));
    else act();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.room.leave().catch(() => undefined);
  }
}

export interface ColyseusRun {
  rtt: RecordableHistogram;
  stats: { rtt: RecordableHistogram; moves: number; bytes: number };
  /** Resets the counters (after a warm-up). */
  reset(): void;
  stop(): Promise<void>;
}

/**
 * A matchmaking request again after a failed fetch: the SDK's HTTP client reuses keep-alive
 * connections that the server may close at that very moment (undici's "fetch failed").
 */
async function retried<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= 4 || !/fetch failed|seat reservation expired/.test((error as Error).message)) throw error;
      await new Promise((r) => setTimeout(r, 100 * (i + 1)));
    }
  }
}

/** Seats `rooms` tables of 4 bots on the Colyseus server at `port`; they play until stopped. */
export async function startColyseusBots(port: number, rooms: number, think: number): Promise<ColyseusRun> {
  const stats = { rtt: createHistogram(), moves: 0, bytes: 0 };
  const bots: ColyseusBot[] = [];
  const client = new Client(`ws://127.0.0.1:${port}`);
  for (let r = 0; r < rooms; r += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, rooms - r) }, async () => {
        const table = Array.from({ length: 4 }, () => new ColyseusBot(think, stats));
        const roomId = await retried(() => table[0]!.create(client));
        for (const bot of table.slice(1)) await retried(() => bot.join(client, roomId));
        bots.push(...table);
      }),
    );
  }
  for (const bot of bots) bot.start();
  return {
    rtt: stats.rtt,
    stats,
    reset: () => {
      stats.rtt.reset();
      stats.moves = 0;
      stats.bytes = 0;
    },
    stop: async () => {
      await Promise.all(bots.map((b) => b.stop()));
    },
  };
}
