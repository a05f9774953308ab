import { EventDataRejected, type AppendRequest, type PgEventStore } from '../stores/event-store.js';
import type { Metrics } from '../metrics.js';

/** The append was refused: a newer owner holds the room (or its sequence moved on). */
export class FencedError extends Error {
  override name = 'FencedError';
}

interface Pending {
  request: AppendRequest;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A commit in flight longer than this is slow: the appends behind it may start another. */
export const SLOW_COMMIT_MS = 100;

/**
 * Group commit for appends from many rooms. A lone append goes out at once; while a commit is
 * in flight, the appends that arrive wait for it and go together in the next, so under load
 * there are few transactions and no added delay when idle.
 *
 * One transaction at a time measured best at saturation on the development machine (bigger
 * batches; scripts/bench-append.ts: see README), but then one slow commit (a lock wait, a
 * stalled link) would hold every room behind it. So more transactions (up to `maxInFlight`,
 * PG_COMMIT_SLOTS) start only while every one in flight is slow (older than SLOW_COMMIT_MS):
 * the rooms behind a stuck commit go on in the next slot. Every commit is bounded anyway
 * (PG_QUERY_TIMEOUT_MS), and one that gets no answer fails its rooms as in doubt
 * (EventStoreInDoubt), never as done. A room never has two appends in flight, so order within
 * a game is kept whatever the slot count.
 */
export class AppendBatcher {
  private pending: Pending[] = [];
  /** When each commit in flight started. */
  private readonly started = new Set<number>();
  private wakeup: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<PgEventStore, 'appendBatch'>,
    private readonly metrics?: Metrics,
    private readonly maxInFlight = 4,
    private readonly maxGamesPerBatch = 500,
    private readonly slowMs = SLOW_COMMIT_MS,
  ) {}

  private get inFlight(): number {
    return this.started.size;
  }

  append(request: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      this.pump();
    });
  }

  /** Resolves true when nothing is queued or in flight, or false once `timeoutMs` has passed. */
  async idle(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.inFlight > 0 || this.pending.length > 0) {
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, deadline - performance.now()))));
    }
    return true;
  }

  private pump(): void {
    while (this.pending.length > 0 && this.slotFree()) {
      const batch = this.pending.splice(0, this.maxGamesPerBatch);
      // A unique key per commit (two may start in the same millisecond).
      let at = performance.now();
      while (this.started.has(at)) at += 1e-6;
      this.started.add(at);
      void this.run(batch).finally(() => {
        this.started.delete(at);
        this.pump();
      });
    }
    this.armWakeup();
  }

  /** Whether a commit may start now: none in flight, or a slot left and every one in flight slow. */
  private slotFree(): boolean {
    if (this.inFlight === 0) return true;
    if (this.inFlight >= this.maxInFlight) return false;
    return performance.now() - this.youngest() >= this.slowMs;
  }

  private youngest(): number {
    let youngest = Number.NEGATIVE_INFINITY;
    for (const at of this.started) youngest = Math.max(youngest, at);
    return youngest;
  }

  /** Appends waiting behind commits that are not slow yet: look again when they would be. */
  private armWakeup(): void {
    if (this.wakeup || this.pending.length === 0 || this.inFlight === 0 || this.inFlight >= this.maxInFlight) return;
    const delay = Math.max(0, this.youngest() + this.slowMs - performance.now());
    this.wakeup = setTimeout(() => {
      this.wakeup = null;
      this.pump();
    }, delay);
    this.wakeup.unref();
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      if (error instanceof EventDataRejected && batch.length > 1) {
        // One request's data poisoned the statement: commit each alone, so only it fails.
        for (const p of batch) await this.commit([p]).catch((alone: Error) => p.reject(alone));
        return;
      }
      for (const p of batch) p.reject(error as Error);
    }
  }

  /** One statement for the batch; resolves or fences each request, throws if the statement failed. */
  private async commit(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const appended = await this.store.appendBatch(batch.map((p) => p.request));
    this.metrics?.appendMs.observe(performance.now() - started);
    this.metrics?.appendBatchSize.observe(batch.length);
    for (const p of batch) {
      if (appended.has(p.request.game_id)) {
        this.metrics?.eventsAppended.inc(p.request.events.length);
        p.resolve();
      } else {
        this.metrics?.appendsFenced.inc();
        p.reject(new FencedError(`append to ${p.request.game_id} at epoch ${p.request.epoch} after seq ${p.request.expected_seq} was fenced`));
      }
    }
  }
}
