/**
 * Whether PostgreSQL answers, as this node last saw it, and the moment it answers again after
 * an outage (a restart, a failover of the server, a cut link).
 *
 * A call that finds it unreachable (a connection refused or reset, a statement unanswered)
 * marks it down; from then on one cheap probe (`select 1`) runs every `intervalMs` for the
 * whole node (not one per room), until the probe or any other call gets an answer. Whoever
 * waits for that is told at once: rooms stopped by the outage are activated again, commands
 * and followers that found their room unplayable try again (README: failover). Without it each
 * of them would find out on its own retry timer, hundreds of milliseconds to seconds late.
 */
export class PgReachability {
  private down = false;
  /** When the current outage was first seen (for the logs). */
  private since = 0;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(downMs: number) => void>();

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** False from a call that found PostgreSQL unreachable until it is seen answering again. */
  get answering(): boolean {
    return !this.down;
  }

  /** A call found PostgreSQL unreachable: probe it until it answers. */
  lost(): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.since = this.now();
    this.schedule();
  }

  /** A call got an answer: PostgreSQL is back, if it was down. */
  answered(): void {
    if (!this.down) return;
    this.down = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const downMs = this.now() - this.since;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
    for (const listener of this.listeners) listener(downMs);
  }

  /**
   * Resolves after `ms`, or sooner, as PostgreSQL answers again if it is down now: the wait
   * of something that failed because of it and tries again.
   */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      if (this.down) this.waiters.add(done);
    });
  }

  /** Calls `listener` each time PostgreSQL answers after an outage, with how long it was seen down. */
  onAnswering(listener: (downMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const wake of [...this.waiters]) wake();
  }

  private schedule(): void {
    if (this.timer || this.probing || !this.down || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.probing = true;
      // A probe that fails leaves the store down (its failure says so again); the next one
      // goes out `intervalMs` after it ended, so a slow failure does not pile probes up.
      void this.probe()
        .then(
          () => this.answered(),
          () => undefined,
        )
        .finally(() => {
          this.probing = false;
          this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }
}
