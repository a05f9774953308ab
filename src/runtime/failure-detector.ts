import type { Bus } from '../stores/bus.js';
import { GONE_MARK, type StateCache } from '../stores/state-cache.js';

/** Looks in a row a peer's inbox must be found unsubscribed before it is taken for dead. */
const ABSENT_LOOKS = 2;

/**
 * Finds dead peers in a fraction of a lease TTL, by two signs, each looked at every
 * `CRASH_POLL_MS` in one round trip for all peers:
 *
 * - a crash (SIGKILL, OOM, the host gone): the dead process's connections close at once, and
 *   Redis drops its inbox subscription (PUBSUB CHANNELS no longer lists it). Taken for dead
 *   when missing from two looks in a row, or at the first if no connection of it is left
 *   either (CLIENT LIST, asked only then: its connections carry its name) and its heartbeat
 *   did not move.
 * - a hang (SIGSTOP, a long GC pause, a partition from Redis): its heartbeat mark, rewritten
 *   every third of the TTL, has not changed for a whole TTL by this node's clock.
 *
 * Neither is proof, only a strong hint: whoever acts on it takes rooms over by compare-and-set
 * on the dead node's leases, and the PostgreSQL epoch fences that node should it live after
 * all. A Redis that restarts (or a connection of this node that breaks) drops every
 * subscription and may lose every heartbeat at once: nothing seen across a break of this
 * node's own connections counts, and a peer must be seen subscribed again after it before its
 * absence means anything. A flushed Redis loses heartbeats without a break: a live peer writes
 * its mark again within a third of the TTL, which counts as a change.
 */
export class FailureDetector {
  /** The bus's break count the current observations belong to. */
  private breaks = -1;
  /** Peers seen subscribed since the last break, with the number of looks since that missed them. */
  private readonly absent = new Map<string, number>();
  /** Each peer's last heartbeat mark, and when (this clock) it was first seen with it. */
  private readonly marks = new Map<string, { mark: string | null; since: number }>();
  /** Peers taken for dead, until they show life again (not told twice). */
  private readonly declared = new Set<string>();
  private looking = false;

  constructor(
    private readonly bus: Pick<Bus, 'listening' | 'breaks' | 'connected'>,
    private readonly cache: Pick<StateCache, 'heartbeatMarks'>,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
    /** `news`: this node found it first (else it read a peer's verdict): it tells the others. */
    private readonly onDead: (nodeId: string, why: string, news: boolean) => void,
  ) {}

  /** One look; throws if Redis cannot be read (the next look tries again, from scratch if it broke). */
  async look(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      await this.lookOnce();
    } finally {
      this.looking = false;
    }
  }

  private async lookOnce(): Promise<void> {
    const breaks = this.bus.breaks;
    const listening = await this.bus.listening();
    const peers = [...new Set([...this.absent.keys(), ...(listening ?? [])])].filter((id) => id !== this.nodeId);
    const marks = await this.cache.heartbeatMarks(peers);
    const now = this.now();
    // Across a break, or while this node's own subscription is not there, nothing counts: start over.
    if (!listening || !listening.has(this.nodeId) || breaks !== this.bus.breaks || breaks !== this.breaks) {
      this.breaks = this.bus.breaks;
      this.absent.clear();
      this.marks.clear();
      for (const id of listening ?? []) if (id !== this.nodeId) this.absent.set(id, 0);
      for (const id of this.absent.keys()) this.marks.set(id, { mark: marks.get(id) ?? null, since: now });
      return;
    }
    const firstMissed: string[] = [];
    for (const id of peers) {
      const mark = marks.get(id) ?? null;
      const seen = this.marks.get(id);
      // A mark that vanished (it expired, or Redis lost it) is no sign of life: only a new one is.
      if (!seen || (seen.mark !== mark && mark !== null)) this.marks.set(id, { mark, since: now });
      const subscribed = listening.has(id);
      if (subscribed) this.absent.set(id, 0);
      else this.absent.set(id, (this.absent.get(id) ?? 0) + 1);
      if (mark === GONE_MARK) {
        // It drained (it says so itself) or a peer took it for dead: this node acts on it too
        // (its departure on the bus may come later, or have been lost); nothing more to watch.
        if (!this.declared.has(id)) {
          this.declared.add(id);
          this.onDead(id, 'marked gone', false);
        }
        this.forget(id);
        continue;
      }
      const changed = seen !== undefined && seen.mark !== mark && mark !== null;
      if (this.declared.has(id)) {
        // Back to life (a pause ended, or it restarted under the same id): watched anew.
        if (subscribed && mark !== null && (seen === undefined || changed)) this.declared.delete(id);
        continue;
      }
      if (!subscribed && this.absent.get(id)! >= ABSENT_LOOKS) this.declare(id, 'its connections closed (its bus subscription vanished)');
      else if (now - this.marks.get(id)!.since > this.ttlMs) this.declare(id, 'its heartbeat was not renewed for a lease TTL');
      else if (!subscribed && this.absent.get(id) === 1 && !changed) firstMissed.push(id);
    }
    // Missing for the first time: if none of its connections is left either (and its heartbeat
    // did not move), its process is gone; a subscription alone vanishes when that one
    // connection breaks and comes back, and then the second look decides.
    if (firstMissed.length > 0 && this.bus.connected) {
      const connected = await this.bus.connected(firstMissed);
      if (connected && breaks === this.bus.breaks) {
        for (const id of firstMissed) {
          if (!connected.has(id) && !this.declared.has(id) && this.absent.get(id) === 1) this.declare(id, 'its connections closed (its bus subscription and every connection of it vanished)');
        }
      }
    }
  }

  private declare(id: string, why: string): void {
    this.declared.add(id);
    if (!this.absent.has(id) || this.absent.get(id)! > 0) this.forget(id);
    this.onDead(id, why, true);
  }

  private forget(id: string): void {
    this.absent.delete(id);
    this.marks.delete(id);
  }
}
