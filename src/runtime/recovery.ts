import { createHash } from 'node:crypto';
import type { ActiveGame, EpochClaim, EventRecord } from '../stores/event-store.js';
import type { Lease } from '../stores/leases.js';
import type { RoomMeta, SnapshotRecord } from '../stores/state-cache.js';
import type { Placement } from './placement.js';
import { CorruptGameError, earlyEvents, rebuildContext } from './restore.js';
import { emptySummary, type RecoverySummary, type RuntimeDeps } from './types.js';
import type { HandedRoom } from './handoff.js';

/**
 * For this long after a node finds a peer dead, it adopts only its share of that peer's rooms
 * (see Recovery.share); then whatever is left (a peer that did not take its share) is anyone's.
 */
const SHARE_FIRST_MS = 100;

/** Games taken (leased, claimed, restored) in one go. */
const BATCH = 500;

/**
 * Bringing rooms back: every unfinished game at start, the rooms of nodes that died or drained
 * (adoption of orphans), and this node's own games that it stopped hosting while it lives on
 * (reconciliation). All take leases and epochs in batches and restore each room from the Redis
 * snapshot and the later events (see restore.ts).
 */
export class Recovery {
  /** Adoption and reconciliation run one at a time (each takes rooms the other looks at). */
  private busy = false;
  /** When this node first found each dead peer dead (see SHARE_FIRST_MS). */
  private readonly deadSince = new Map<string, number>();
  /** Adoption was asked for while busy: it runs once more when the work at hand ends. */
  private adoptAfter = false;
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
  async recoverAll(batchSize = BATCH): Promise<RecoverySummary> {
    const started = performance.now();
    const summary = emptySummary();
    const { events, cache } = this.deps.backends;
    const games = await events.activeGames(this.deps.options.roomTtlSeconds);
    // Not the rooms of peers that are running (their heartbeat is there): even when their
    // leases are gone (Redis restarted as this node starts), they are theirs to take back.
    const owners = [...new Set(games.flatMap((g) => (g.server_id && g.server_id !== this.deps.options.nodeId ? [g.server_id] : [])))];
    const states = await cache.nodeStates(owners);
    const unique = this.placement.unhosted(games).filter((g) => !g.server_id || states.get(g.server_id) !== 'live');
    summary.skipped += games.length - unique.length;
    for (let i = 0; i < unique.length; i += batchSize) {
      // Leases this node's previous life (same NODE_ID, now dead: this process is its successor) still holds are taken over.
      await this.recoverBatch(unique.slice(i, i + batchSize), summary, new Set([this.deps.options.nodeId]));
    }
    summary.ms = Math.round(performance.now() - started);
    this.deps.log.info(
      { recovered: summary.recovered, from: summary.from, skipped: summary.skipped, failed: summary.failed.length, ms: summary.ms },
      'recovery finished',
    );
    return summary;
  }

  /**
   * Adopts the unfinished games recorded on nodes taken for dead (see liveness.ts: drained, or
   * without a heartbeat for a whole lease TTL as this node saw it), its share first (see
   * SHARE_FIRST_MS). The lease decides between racing survivors; the epoch fences the loser.
   */
  async adoptOrphans(): Promise<number> {
    const started = performance.now();
    // Asked while reconciliation runs: looked at again right after it, not skipped (a dead
    // peer's rooms wait for nobody's next period).
    if (this.busy) this.adoptAfter = true;
    return this.exclusive(async () => {
      const { backends, options, log, metrics } = this.deps;
      const { events } = backends;
      const ttl = options.roomTtlSeconds;
      const hosts = (await events.hostingNodes(ttl)).filter((id) => id !== options.nodeId);
      if (hosts.length === 0) return 0;
      const t1 = performance.now();
      const gone = [...(await this.placement.liveness.dead(hosts))];
      if (gone.length === 0) return 0;
      const t2 = performance.now();
      const dead = new Set(gone);
      // A node found dead a moment ago: every peer found it too, and each takes its share
      // first; a little later, whatever is left is anyone's.
      const now = this.deps.now();
      for (const id of gone) if (!this.deadSince.has(id)) this.deadSince.set(id, now);
      for (const id of this.deadSince.keys()) if (!dead.has(id)) this.deadSince.delete(id);
      const orphans = this.placement.unhosted(await events.gamesHostedBy(gone, ttl));
      const t3 = performance.now();
      const fresh = orphans.filter((g) => g.server_id && now - (this.deadSince.get(g.server_id) ?? now) < SHARE_FIRST_MS);
      const shared = fresh.length > 0 ? new Set(await this.share(fresh, dead)) : new Set<ActiveGame>();
      const games = orphans.filter((g) => !fresh.includes(g) || shared.has(g));
      const ms = (a: number, b: number) => Math.round(b - a);
      log.debug({ nodes: gone, orphans: orphans.length, fresh: fresh.length, mine: games.length, hosts_ms: ms(started, t1), dead_ms: ms(t1, t2), orphans_ms: ms(t2, t3), share_ms: ms(t3, performance.now()) }, 'adoption look');
      if (games.length === 0) return 0;
      const summary = emptySummary();
      for (let i = 0; i < games.length; i += BATCH) await this.recoverBatch(games.slice(i, i + BATCH), summary, dead);
      if (summary.recovered > 0) {
        metrics?.adoptions.inc(summary.recovered);
        metrics?.adoptionMs.observe(performance.now() - started);
      }
      if (summary.recovered > 0 || summary.failed.length > 0) {
        log.info({ adopted: summary.recovered, from: summary.from, failed: summary.failed.length, nodes: gone }, 'adopted orphaned rooms');
      }
      return summary.recovered;
    });
  }

  /**
   * The rooms a drained peer named this node to adopt (see Peers.adopters): taken at once,
   * without the look at which nodes are dead (it said it is gone) or the share window, and not
   * held back by a reconciliation running (whatever this node holds or is taking is skipped;
   * the leases decide against any other taker). A room it cannot take now is left to the usual
   * adoption of orphans, here or on any peer.
   */
  async adoptNamed(node: string, rooms: readonly string[]): Promise<number> {
    if (!this.placement.isAccepting || rooms.length === 0) return 0;
    const started = performance.now();
    const { backends, options, log, metrics } = this.deps;
    const wanted = new Set(rooms);
    const games = this.placement.unhosted(await backends.events.gamesHostedBy([node], options.roomTtlSeconds)).filter((g) => wanted.has(g.room_code));
    if (games.length === 0) return 0;
    const summary = emptySummary();
    for (let i = 0; i < games.length; i += BATCH) await this.recoverBatch(games.slice(i, i + BATCH), summary, new Set([node]));
    if (summary.recovered > 0) {
      metrics?.adoptions.inc(summary.recovered);
      metrics?.adoptionMs.observe(performance.now() - started);
    }
    log.info({ adopted: summary.recovered, named: rooms.length, from: summary.from, failed: summary.failed.length, node }, 'adopted the rooms a drained node named');
    return summary.recovered;
  }

  /**
   * Rooms a draining peer handed to this node, with their last snapshots (see handoff.ts):
   * taken like the rooms it names at its departure (lease taken over from it, a new epoch, which
   * fences whatever it may still append), but restored from the snapshot it sent, not Redis's
   * (PostgreSQL's last sequence still decides: a snapshot behind it is caught up from the
   * events). A room this node cannot take now is left to the peer's departure and the usual
   * adoption of orphans.
   */
  async adoptHandedOver(node: string, rooms: readonly HandedRoom[]): Promise<number> {
    if (!this.placement.isAccepting || rooms.length === 0) return 0;
    const started = performance.now();
    const games: ActiveGame[] = rooms.map((r) => ({ game_id: r.game_id, room_code: r.code, last_seq: r.snapshot.seq, epoch: r.epoch, status: r.status, server_id: node }));
    const given = new Map(rooms.map((r) => [r.game_id, r.snapshot]));
    const summary = emptySummary();
    await this.recoverBatch(this.placement.unhosted(games), summary, new Set([node]), given);
    if (summary.recovered > 0) {
      this.deps.metrics?.adoptions.inc(summary.recovered);
      this.deps.metrics?.adoptionMs.observe(performance.now() - started);
    }
    this.deps.log.info({ adopted: summary.recovered, handed: rooms.length, from: summary.from, failed: summary.failed.length, node, ms: Math.round(performance.now() - started) }, 'took rooms a draining node handed over');
    return summary.recovered;
  }

  /**
   * This node's own unfinished games that it neither hosts nor is taking: rooms stopped here
   * by fencing or a lost lease (Redis restarted, say), or whose restore failed. PostgreSQL still
   * names this node, which lives, so no peer adopts them: this node takes them back (lease, new
   * epoch, restore). One whose lease another node holds is that node's to take (its claim will
   * name it); PostgreSQL stops naming this node for it, except in the first two TTLs after start,
   * when a held lease may still be this node's previous life's (it lapses; then it is taken here).
   */
  async reconcile(): Promise<number> {
    return this.exclusive(async () => {
      const { backends, options, log, now } = this.deps;
      const { events } = backends;
      const mine = this.placement.unhosted(await events.gamesHostedBy([options.nodeId], options.roomTtlSeconds));
      if (mine.length === 0) return 0;
      // A game without a single event never gave anyone a seat (its creation failed): nothing to take back.
      const empty = mine.filter((g) => g.last_seq === 0);
      const games = mine.filter((g) => g.last_seq > 0);
      const summary = emptySummary();
      const held: ActiveGame[] = [];
      for (let i = 0; i < games.length; i += BATCH) held.push(...(await this.recoverBatch(games.slice(i, i + BATCH), summary)));
      let released = 0;
      for (const game of empty) if (await events.releaseGame(game.game_id, options.nodeId, game.epoch).catch(() => false)) released++;
      if (held.length > 0 && now() - this.startedAt >= 2 * options.leaseTtlMs) {
        // A lease attempt that failed (Redis unreachable) looks like a lease held: only one seen held is let go.
        const seenHeld = await backends.cache.leasesHeld(held.map((g) => g.room_code)).catch(() => new Set<string>());
        for (const game of held.filter((g) => seenHeld.has(g.room_code))) {
          // Conditional on the epoch read above: a claim since then is left as it is.
          if (await events.releaseGame(game.game_id, options.nodeId, game.epoch).catch(() => false)) released++;
        }
      }
      if (summary.recovered > 0 || summary.failed.length > 0 || released > 0) {
        log.info({ retaken: summary.recovered, from: summary.from, failed: summary.failed.length, released }, 'reconciled own rooms');
      }
      return summary.recovered;
    });
  }

  /**
   * This node's share of a dead node's rooms, so that its peers, all told of the death at once,
   * spread its rooms between them instead of the quickest taking them all: each room goes to
   * the live node (subscribed to the bus) that scores highest for it (rendezvous hashing). A
   * node that does not take its share (busy, draining, dead too) leaves it to the later looks,
   * where every node takes whatever is left.
   */
  private async share(games: ActiveGame[], dead: ReadonlySet<string>): Promise<ActiveGame[]> {
    const self = this.deps.options.nodeId;
    const listening = await this.deps.backends.bus.listening().catch(() => null);
    if (!listening || games.length === 0) return games;
    const nodes = [...new Set([...listening, self])].filter((id) => !dead.has(id));
    this.deps.log.debug({ among: nodes, rooms: games.length }, 'sharing a dead peer\'s rooms');
    const score = (room: string, node: string) => createHash('sha1').update(`${room}|${node}`).digest().readUInt32BE(0);
    return games.filter((g) => {
      let best = self;
      let top = -1;
      for (const node of nodes) {
        const s = score(g.room_code, node);
        if (s > top || (s === top && node < best)) [best, top] = [node, s];
      }
      return best === self;
    });
  }

  /** Runs `work` unless adoption or reconciliation is running already (then it is skipped: both run periodically). */
  private async exclusive(work: () => Promise<number>): Promise<number> {
    if (!this.placement.isAccepting || this.busy) return 0;
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
      if (this.adoptAfter) {
        this.adoptAfter = false;
        void this.adoptOrphans().catch((error) => this.deps.log.warn({ err: (error as Error).message }, 'adoption failed'));
      }
    }
  }

  /**
   * Takes a batch of games: their leases, then their epochs, then their state. The last
   * sequence each room is restored to comes back with its epoch (see EpochClaim), not from the
   * list the batch was made from: the old owner may have committed meanwhile. Whatever fails
   * after the leases are taken (one game, or a read for the whole batch), the leases of the
   * rooms not hosted are given back, so that nobody is kept from taking them (this node again,
   * at its next reconciliation, since PostgreSQL may name it now). Returns the games whose
   * lease another node holds.
   */
  private async recoverBatch(batch: ActiveGame[], summary: RecoverySummary, orphansOf: ReadonlySet<string> = new Set(), given?: ReadonlyMap<string, SnapshotRecord>): Promise<ActiveGame[]> {
    const fresh = batch.filter((game) => !this.placement.holds(game.room_code));
    summary.skipped += batch.length - fresh.length;
    return this.placement.whileTaking(
      fresh.map((g) => g.room_code),
      () => this.takeAndRestore(fresh, summary, orphansOf, given),
    );
  }

  /**
   * `orphansOf`: nodes taken for dead, whose leases are taken over rather than waited out.
   * `given`: snapshots a draining owner sent with its rooms (by game id); Redis is not read for
   * those, nor their room hash (it exists: their owner just hosted them).
   */
  private async takeAndRestore(fresh: ActiveGame[], summary: RecoverySummary, orphansOf: ReadonlySet<string>, given?: ReadonlyMap<string, SnapshotRecord>): Promise<ActiveGame[]> {
    const { backends, options, log } = this.deps;
    const { cache, events, leases } = backends;
    const held: ActiveGame[] = [];
    const mine: Array<{ game: ActiveGame; lease: Lease }> = [];
    const failed = (game: ActiveGame, reason: string) => {
      summary.failed.push({ game_id: game.game_id, room: game.room_code, reason });
      this.deps.metrics?.recoveryFailures.inc();
      log.error({ game_id: game.game_id, room: game.room_code, reason }, 'game not recovered');
    };
    // Settled one by one: a lease taken must be known (and given back) even if another attempt throws.
    const orphanOf = (game: ActiveGame) => (game.server_id && orphansOf.has(game.server_id) ? game.server_id : undefined);
    // The snapshots and room hashes are read with the leases, not after them: reading takes
    // nothing, and what they hold is judged against the sequence the epoch claim returns below.
    const toRead = fresh.filter((g) => !given?.has(g.game_id));
    const t0 = performance.now();
    const [leased, reads] = await Promise.all([
      Promise.allSettled(fresh.map((game) => leases.tryAcquire(game.room_code, orphanOf(game)))),
      Promise.all([toRead.length > 0 ? cache.loadSnapshots(toRead.map((g) => g.game_id)) : Promise.resolve([]), Promise.all(toRead.map((g) => cache.getRoom(g.room_code)))]).then(
        (value) => ({ value }),
        (error: unknown) => ({ error: error as Error }),
      ),
    ]);
    const t1 = performance.now();
    fresh.forEach((game, i) => {
      const result = leased[i]!;
      if (result.status === 'rejected') failed(game, `lease: ${(result.reason as Error).message}`);
      else if (result.value) mine.push({ game, lease: result.value });
      else {
        summary.skipped++; // another node hosts it, or is taking it
        held.push(game);
      }
    });
    if (mine.length === 0) return held;
    const pending = new Set(mine);
    try {
      if ('error' in reads) throw reads.error;
      const [read, readMetas] = reads.value;
      const readIndex = new Map(toRead.map((g, i) => [g.game_id, i]));
      const snapshotOf = (m: { game: ActiveGame }) => given?.get(m.game.game_id) ?? read[readIndex.get(m.game.game_id)!] ?? null;
      // A handed room's hash is there (null would have it registered anew): any non-null stands for it.
      const metas = mine.map((m) => (readIndex.has(m.game.game_id) ? (readMetas[readIndex.get(m.game.game_id)!] ?? null) : ({} as RoomMeta)));
      // The epochs, and with them (one round trip, not two in a row) the events after each
      // snapshot as far as PostgreSQL has them now. The claim's last sequence decides: events the
      // old owner committed meanwhile, or all of them when the snapshot turns out unusable, are
      // read after it (rare: completeEvents).
      const spec = mine.map((m) => ({ game_id: m.game.game_id, after_seq: snapshotOf(m)?.seq ?? 0 }));
      const [claims, early] = await Promise.all([events.claimEpochs(mine.map((m) => m.game.game_id), options.nodeId), events.loadEventsOf(spec)]);
      const t2 = performance.now();
      const usable = new Map<string, SnapshotRecord | null>();
      for (const m of mine) {
        const snapshot = snapshotOf(m);
        const lastSeq = claims.get(m.game.game_id)?.last_seq ?? -1;
        usable.set(m.game.game_id, snapshot && snapshot.seq <= lastSeq ? snapshot : null);
      }
      const later = await this.completeEvents(mine, spec, early, usable, claims);
      const t3 = performance.now();
      await Promise.all(
        mine.map(async (m, i) => {
          const claim = claims.get(m.game.game_id);
          try {
            await this.restoreOne(m, claim, usable.get(m.game.game_id) ?? null, later.get(m.game.game_id) ?? [], metas[i] ?? null, summary);
            pending.delete(m);
          } catch (error) {
            failed(m.game, (error as Error).message);
            if (claim && error instanceof CorruptGameError) await this.placement.letGo(m.game, claim.epoch, error.message);
          }
        }),
      );
      const t4 = performance.now();
      log.debug({ rooms: mine.length, lease_ms: Math.round(t1 - t0), claim_ms: Math.round(t2 - t1), events_ms: Math.round(t3 - t2), restore_ms: Math.round(t4 - t3) }, 'batch taken');
    } catch (error) {
      // A read for the whole batch failed: none of its rooms that is not hosted yet is restored now.
      const reason = (error as Error).message;
      summary.failed.push(...[...pending].map((m) => ({ game_id: m.game.game_id, room: m.game.room_code, reason })));
      log.error({ rooms: pending.size, reason }, 'rooms not recovered: a read failed; their leases are given back');
    } finally {
      await Promise.all([...pending].map((m) => m.lease.release().catch(() => undefined)));
    }
    return held;
  }

  /**
   * Each room's events after its usable snapshot (all of them without one) through the last
   * sequence its epoch claim returned, from those read alongside the claim (`early`, after
   * `spec`'s sequences): read again from the right place where the snapshot turned out
   * unusable, and the tail read where the old owner committed after that read.
   */
  private async completeEvents(
    mine: ReadonlyArray<{ game: ActiveGame }>,
    spec: ReadonlyArray<{ game_id: string; after_seq: number }>,
    early: ReadonlyMap<string, EventRecord[]>,
    usable: ReadonlyMap<string, SnapshotRecord | null>,
    claims: ReadonlyMap<string, EpochClaim>,
  ): Promise<Map<string, EventRecord[]>> {
    const out = new Map<string, EventRecord[]>();
    const missing: Array<{ game_id: string; after_seq: number }> = [];
    mine.forEach((m, i) => {
      const id = m.game.game_id;
      const { events: got, resumeAfter } = earlyEvents(early.get(id) ?? [], spec[i]!.after_seq, usable.get(id)?.seq ?? 0, claims.get(id)?.last_seq ?? -1);
      if (got.length > 0 || resumeAfter !== null) out.set(id, got);
      if (resumeAfter !== null) missing.push({ game_id: id, after_seq: resumeAfter });
    });
    if (missing.length > 0) {
      const rest = await this.deps.backends.events.loadEventsOf(missing);
      for (const { game_id } of missing) {
        const lastSeq = claims.get(game_id)?.last_seq ?? -1;
        out.set(game_id, [...(out.get(game_id) ?? []), ...(rest.get(game_id) ?? []).filter((e) => e.seq <= lastSeq)]);
      }
    }
    return out;
  }

  private async restoreOne(
    m: { game: ActiveGame; lease: Lease },
    claim: EpochClaim | undefined,
    snapshot: SnapshotRecord | null,
    later: EventRecord[],
    meta: RoomMeta | null,
    summary: RecoverySummary,
  ): Promise<void> {
    if (!claim) throw new Error('the game row vanished');
    const { game, lease } = m;
    const { context, source } = rebuildContext(snapshot, claim.last_seq, later, this.deps.options.timing);
    await this.placement.adopt(game.room_code, { ...game, ...claim }, lease, context, source, meta === null);
    summary.recovered++;
    summary.from[source]++;
  }
}
