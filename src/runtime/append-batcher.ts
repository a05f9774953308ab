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

/**
 * Group commit for appends from many rooms. A lone append goes out at once; when every
 * transaction slot is busy, the appends that arrive wait for the next free slot and go
 * together, so under load there are few transactions and no added delay when idle. With more
 * than one slot (PG_COMMIT_SLOTS) a slow commit does not hold every room behind it; every
 * commit is bounded anyway (PG_QUERY_TIMEOUT_MS), and one that gets no answer fails its rooms
 * as in doubt (EventStoreInDoubt), never as done. A room never has two appends in flight, so
 * order within a game is kept whatever the slot count.
 */
export class AppendBatcher {
  private pending: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly store: Pick<PgEventStore, 'appendBatch'>,
    private readonly metrics?: Metrics,
    private readonly maxInFlight = 1,
    private readonly maxGamesPerBatch = 500,
  ) {}

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
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxGamesPerBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
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
      } else p.reject(new FencedError(`append to ${p.request.game_id} at epoch ${p.request.epoch} after seq ${p.request.expected_seq} was fenced`));
    }
  }
}
