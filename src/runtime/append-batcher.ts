import type { AppendRequest, PgEventStore } from '../stores/event-store.js';
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
 * Group commit for appends from many rooms. A lone append goes out at once; appends that
 * arrive while a transaction is in flight wait for it and then go together in the next one,
 * so under load there are few transactions and no added delay when idle.
 */
export class AppendBatcher {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: Pick<PgEventStore, 'appendBatch'>,
    private readonly metrics?: Metrics,
    private readonly maxGamesPerBatch = 500,
  ) {}

  append(request: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxGamesPerBatch);
        const started = performance.now();
        try {
          const appended = await this.store.appendBatch(batch.map((p) => p.request));
          this.metrics?.appendMs.observe(performance.now() - started);
          this.metrics?.appendBatchSize.observe(batch.length);
          for (const p of batch) {
            if (appended.has(p.request.game_id)) {
              this.metrics?.eventsAppended.inc(p.request.events.length);
              p.resolve();
            } else p.reject(new FencedError(`append to ${p.request.game_id} at epoch ${p.request.epoch} after seq ${p.request.expected_seq} was fenced`));
          }
        } catch (error) {
          for (const p of batch) p.reject(error as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
