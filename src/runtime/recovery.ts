import type { ActiveGame, EventRecord } from '../stores/event-store.js';
import type { Lease } from '../stores/leases.js';
import type { SnapshotRecord } from '../stores/state-cache.js';
import type { Placement } from './placement.js';
import { rebuildContext } from './restore.js';
import { emptySummary, type RecoverySummary, type RuntimeDeps } from './types.js';

/**
 * Bringing rooms back: every unfinished game at start, and the rooms of nodes that died or
 * drained (adoption of orphans). Both take leases and epochs in batches and restore each room
 * from the Redis snapshot and the later events (see restore.ts).
 */
export class Recovery {
  private adopting = false;
  private readonly startedAt: number;

  constructor(
    private readonly placement: Placement,
    private readonly deps: RuntimeDeps,
  ) {
    this.startedAt = deps.now();
  }

  /**
   * Recovers every unfinished game at start (DESIGN.md / issue: recovery): snapshots in
   * batches from the cache, events only for the games whose snapshot is missing or behind.
   * A game that fails is logged with its reason and skipped; the others go on.
   */
  async recoverAll(batchSize = 500): Promise<RecoverySummary> {
    const started = performance.now();
    const summary = emptySummary();
    const games = await this.deps.backends.events.activeGames(this.deps.options.roomTtlSeconds);
    const unique = this.placement.unhosted(games);
    summary.skipped += games.length - unique.length;
    for (let i = 0; i < unique.length; i += batchSize) {
      await this.recoverBatch(unique.slice(i, i + batchSize), summary);
    }
    summary.ms = Math.round(performance.now() - started);
    this.deps.log.info(
      { recovered: summary.recovered, from: summary.from, skipped: summary.skipped, failed: summary.failed.length, ms: summary.ms },
      'recovery finished',
    );
    return summary;
  }

  /**
   * Adopts the unfinished games recorded on nodes whose heartbeat is gone (crashed, or
   * drained), and, shortly after start, this node's own games it does not host yet (a previous
   * life with the same NODE_ID, whose leases had not lapsed at recovery). The lease decides
   * between racing survivors; the epoch fences the loser.
   */
  async adoptOrphans(): Promise<number> {
    if (!this.placement.isAccepting || this.adopting) return 0;
    this.adopting = true;
    const started = performance.now();
    try {
      const { backends, options, log, metrics, now } = this.deps;
      const { events, cache } = backends;
      const ttl = options.roomTtlSeconds;
      const hosts = await events.hostingNodes(ttl);
      const live = await cache.liveNodes(hosts.filter((id) => id !== options.nodeId));
      const justStarted = now() - this.startedAt < 3 * options.leaseTtlMs;
      const gone = hosts.filter((id) => (id === options.nodeId ? justStarted : !live.has(id)));
      if (gone.length === 0) return 0;
      const games = this.placement.unhosted(await events.gamesHostedBy(gone, ttl));
      if (games.length === 0) return 0;
      const summary = emptySummary();
      for (let i = 0; i < games.length; i += 500) await this.recoverBatch(games.slice(i, i + 500), summary);
      if (summary.recovered > 0) {
        metrics?.adoptions.inc(summary.recovered);
        metrics?.adoptionMs.observe(performance.now() - started);
      }
      if (summary.recovered > 0 || summary.failed.length > 0) {
        log.info({ adopted: summary.recovered, from: summary.from, failed: summary.failed.length, nodes: gone }, 'adopted orphaned rooms');
      }
      return summary.recovered;
    } finally {
      this.adopting = false;
    }
  }

  private async recoverBatch(batch: ActiveGame[], summary: RecoverySummary): Promise<void> {
    const { backends, options, log } = this.deps;
    const { cache, events, leases } = backends;
    const mine: Array<{ game: ActiveGame; lease: Lease }> = [];
    const fresh = batch.filter((game) => !this.placement.holds(game.room_code));
    summary.skipped += batch.length - fresh.length;
    const leased = await Promise.all(fresh.map((game) => leases.tryAcquire(game.room_code)));
    fresh.forEach((game, i) => {
      const lease = leased[i];
      if (lease) mine.push({ game, lease });
      else summary.skipped++; // another node hosts it
    });
    if (mine.length === 0) return;
    const ids = mine.map((m) => m.game.game_id);
    const [epochs, snapshots, metas] = await Promise.all([
      events.claimEpochs(ids, options.nodeId),
      cache.loadSnapshots(ids),
      Promise.all(mine.map((m) => cache.getRoom(m.game.room_code))),
    ]);
    const usable = new Map<string, SnapshotRecord | null>();
    mine.forEach((m, i) => {
      const snapshot = snapshots[i] ?? null;
      usable.set(m.game.game_id, snapshot && snapshot.seq <= m.game.last_seq ? snapshot : null);
    });
    const behind = mine.filter((m) => (usable.get(m.game.game_id)?.seq ?? -1) < m.game.last_seq);
    const later = await events.loadEventsOf(behind.map((m) => ({ game_id: m.game.game_id, after_seq: usable.get(m.game.game_id)?.seq ?? 0 })));
    await Promise.all(
      mine.map(async (m, i) => {
        const { game, lease } = m;
        try {
          const epoch = epochs.get(game.game_id);
          if (epoch === undefined) throw new Error('the game row vanished');
          const { context, source } = rebuildContext(usable.get(game.game_id) ?? null, game.last_seq, later.get(game.game_id) ?? ([] as EventRecord[]), options.timing);
          await this.placement.adopt(game.room_code, { ...game, epoch }, lease, context, source, metas[i] === null);
          summary.recovered++;
          summary.from[source]++;
        } catch (error) {
          await lease.release();
          const reason = (error as Error).message;
          summary.failed.push({ game_id: game.game_id, room: game.room_code, reason });
          this.deps.metrics?.recoveryFailures.inc();
          log.error({ game_id: game.game_id, room: game.room_code, reason }, 'game not recovered');
        }
      }),
    );
  }
}
