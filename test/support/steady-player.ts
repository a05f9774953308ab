/**
 * A seat played the way a patient client plays it through faults: it reconnects to one of the
 * nodes it knows when its socket closes, resumes with its token, and keeps playing (the CPU
 * logic picks the moves); a refusal that says "try again" is tried again. It records what the
 * fault tests check: acks, refusals, and any view that went backwards (an acknowledged move
 * that vanished from what the player sees).
 */
import { chooseCpuMove, CPU_PROFILES } from '../../src/ai/index.js';
import { simulationRng } from '../../src/ai/selfplay.js';
import { TestClient, type Frame } from './client.js';

export class SteadyPlayer {
  client: TestClient | null = null;
  acks = 0;
  unavailable = 0;
  /** Refusals other than the expected races (not your turn, invalid move after a timer) and "try again". */
  readonly errors: string[] = [];
  /** Views older than one this seat had already seen: { from, to } sequences. */
  readonly backwards: Array<{ from: number; to: number }> = [];
  maxSeq = 0;
  lastAckAt = 0;
  over = false;
  private stopped = false;
  private framesSeen = 0;
  private step = 0;
  private portIndex = 0;

  constructor(
    private readonly ports: () => number[],
    readonly token: string,
    private readonly profileIndex = 0,
  ) {}

  /** Plays until `stop()` or the game is over. Never throws. */
  async run(): Promise<void> {
    while (!this.stopped && !this.over) {
      try {
        if (!this.client || this.client.closed) {
          if (!(await this.reconnect())) {
            await sleep(200);
            continue;
          }
        }
        await this.playOnce(this.client!);
      } catch {
        await sleep(50);
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Cuts the connection (as a flaky network would); the loop reconnects and resumes. */
  drop(): void {
    this.client?.terminate();
  }

  async close(): Promise<void> {
    this.stop();
    await this.client?.close().catch(() => undefined);
  }

  private async reconnect(): Promise<boolean> {
    const ports = this.ports();
    if (ports.length === 0) return false;
    const port = ports[this.portIndex++ % ports.length]!;
    let client: TestClient;
    try {
      client = await TestClient.connect(port);
    } catch {
      return false;
    }
    this.client = client;
    this.framesSeen = 0;
    const reply = await client.request({ type: 'resume', token: this.token }).catch(() => null);
    this.note(client);
    if (reply?.type === 'ack') return true;
    if (reply?.type === 'error' && reply.code !== 'unavailable') this.errors.push(`resume: ${reply.code}: ${reply.message}`);
    client.terminate();
    return false;
  }

  /** Checks the frames that arrived since the last look: sequences only move forward. */
  private note(client: TestClient): void {
    for (; this.framesSeen < client.frames.length; this.framesSeen++) {
      const frame = client.frames[this.framesSeen]!;
      if (frame.type !== 'state' && frame.type !== 'welcome') continue;
      if (frame.seq < this.maxSeq) this.backwards.push({ from: this.maxSeq, to: frame.seq });
      this.maxSeq = Math.max(this.maxSeq, frame.seq);
      if (frame.state.phase === 'game_over') this.over = true;
    }
  }

  private async playOnce(client: TestClient): Promise<void> {
    this.note(client);
    const view = client.view;
    if (view.phase === 'game_over') {
      this.over = true;
      return;
    }
    if (view.must || (view.phase === 'round_over' && view.host_id === view.you)) {
      const profile = CPU_PROFILES[this.profileIndex % CPU_PROFILES.length]!;
      const move = view.must ? chooseCpuMove(view as never, profile, simulationRng('steady', client.seq, this.step++)) : { type: 'next_round' as const };
      if (!move) throw new Error(`no move for must=${view.must}`);
      const reply = await client.request(move);
      this.note(client);
      if (reply.type === 'ack') {
        this.acks++;
        this.lastAckAt = Date.now();
        await client.waitFor((f: Frame) => (f.type === 'state' || f.type === 'welcome') && f.seq >= reply.seq, 3000, 0).catch(() => undefined);
        return;
      }
      if (reply.code === 'unavailable') {
        this.unavailable++;
        await sleep(150);
      } else if (reply.code === 'invalid_move' || reply.code === 'not_your_turn') await sleep(20);
      else if (reply.code === 'rate_limited') await sleep(200);
      else {
        this.errors.push(`${move.type}: ${reply.code}: ${reply.message}`);
        await sleep(200);
      }
      return;
    }
    const seq = client.seq;
    const from = client.frames.length;
    await client
      .waitFor((f: Frame) => f.type === 'state' && (f.seq > seq || f.state.must !== view.must || f.state.phase !== view.phase), 1000, from)
      .catch(() => undefined);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seats a host and `cpus` CPU players in a new room on `port`, and starts the game. */
export async function cpuTable(port: number, cpus: number, options: Record<string, unknown> = {}): Promise<TestClient> {
  const host = await TestClient.connect(port);
  await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 9, initial_flips: 0, ...options } });
  for (let i = 0; i < cpus; i++) await host.ok({ type: 'add_cpu', profile: CPU_PROFILES[(i + 1) % CPU_PROFILES.length]!.name });
  await host.ok({ type: 'start_game' });
  return host;
}
