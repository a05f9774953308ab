import type { FailureDetector } from './failure-detector.js';
import type { Peers } from './peers.js';
import type { Placement } from './placement.js';
import type { Recovery } from './recovery.js';
import type { RuntimeDeps } from './types.js';

/**
 * A node's life: its heartbeat and background work while it runs, idle rooms leaving memory,
 * and the drain that hands every room on when it stops.
 */
export class Lifecycle {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly placement: Placement,
    private readonly recovery: Recovery,
    private readonly peers: Peers,
    private readonly deps: RuntimeDeps,
    private readonly detector?: FailureDetector,
  ) {}

  /** Peers took this node for dead while it could not hear the bus (see heartbeat). */
  private expelled = false;

  /**
   * Announces this node as alive (before recovery, so that peers leave its rooms alone).
   * A node whose bus subscription is down (Redis refuses its reconnection, say) is taken for
   * dead by its peers, who mark it `gone` and take its rooms; its leases go with them. It can
   * still run its gateway, but nothing reaches it over the bus (no views of rooms elsewhere,
   * no replies), and its players would sit there answered by nothing but their pings. So while
   * it cannot hear the bus it does not write over a `gone` mark, and finding one it sends its
   * players elsewhere (`reconnect`) and takes no new ones until it hears the bus again; then it
   * declares itself alive and takes players again. A node that hears the bus (woken from a
   * pause) simply declares itself alive: its players' sockets are still good.
   */
  async heartbeat(): Promise<void> {
    const { backends, options, log } = this.deps;
    const deaf = !backends.bus.hearing;
    // Out, and still deaf: it stays out (nothing written; its old mark may lapse meanwhile).
    if (this.expelled && deaf) return;
    const state = await backends.cache.heartbeat(options.nodeId, options.leaseTtlMs, deaf);
    // A subscription being restored (Redis restarted, a connection reset) is deaf for a moment:
    // only one deaf for a whole lease TTL sends its players away; until then the mark is kept
    // and looked at again next time.
    const deafFor = Date.now() - (backends.bus.deafSince ?? Date.now());
    const expelled = state === 'gone' && deafFor >= options.leaseTtlMs;
    if (expelled === this.expelled) return;
    this.expelled = expelled;
    if (expelled) log.warn('taken for dead while deaf to the bus: players sent elsewhere');
    else log.info('hearing the bus again: taking players again');
    options.onExpelled?.(expelled);
  }

  /**
   * The background work of a node: its heartbeat (every third of the lease TTL), adoption of
   * rooms whose node died or drained and a look at the peers (every half TTL), taking back its
   * own rooms it stopped hosting (every TTL), the check of the views watched from other nodes,
   * and passivation of idle rooms.
   */
  startBackground(): void {
    const { backends, options, log } = this.deps;
    const every = (ms: number, work: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        work().catch((error) => log.warn({ err: (error as Error).message }, `${what} failed`));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    const ttl = options.leaseTtlMs;
    every(Math.max(50, Math.floor(ttl / 3)), () => this.heartbeat(), 'heartbeat');
    const poll = options.failurePollMs ?? 0;
    const detector = this.detector;
    if (detector && poll > 0) {
      // Fails at every look while Redis is away: not worth a warning each time.
      const timer = setInterval(() => void detector.look().catch((error) => log.debug({ err: (error as Error).message }, 'failure detection failed')), poll);
      timer.unref();
      this.timers.push(timer);
    }
    every(Math.max(100, Math.floor(ttl / 2)), () => this.recovery.adoptOrphans(), 'adoption');
    every(Math.max(500, ttl), () => this.recovery.reconcile(), 'reconciliation');
    every(Math.max(100, Math.floor(ttl / 2)), () => this.peers.checkPeers(), 'peer check');
    // Views from other nodes cross best-effort pub/sub: checked with their owners about every second.
    every(Math.max(200, Math.min(1000, Math.floor(ttl / 2))), () => this.peers.verifyViews(), 'view check');
    every(Math.min(60_000, Math.max(1000, Math.floor(options.passivateAfterMs / 4))), () => this.passivateIdle(), 'passivation');
    every(10 * 60_000, () => backends.cache.pruneActive(), 'active-set pruning');
    // A Redis that lost its data (flushed, restarted empty) gets its room index back.
    every(Math.max(500, ttl), () => this.placement.index.check(), 'room index check');
    every(10 * 60_000, () => this.placement.index.abandonIdle(), 'abandoning idle games');
  }

  /**
   * Rooms nobody watches, with nothing scheduled, idle for a while, leave memory. Nobody hosts
   * them then, and nobody needs to: they are activated again on demand. PostgreSQL stops naming
   * this node first (else this node's reconciliation could take the room back in between), and
   * the room hash only if it still names this node at this epoch (a newer owner stays visible).
   */
  async passivateIdle(): Promise<number> {
    const { backends, options, now } = this.deps;
    const cutoff = now() - options.passivateAfterMs;
    const idle = this.placement.hosted().filter((a) => a.watcherCount === 0 && a.spectatorCount === 0 && !a.hasDeadline && a.lastActivity < cutoff);
    for (const actor of idle) {
      await actor.idle();
      this.placement.snapshots.mark(actor);
    }
    await this.placement.snapshots.flush();
    for (const actor of idle) {
      await backends.events.releaseGame(actor.gameId, options.nodeId).catch(() => undefined);
      actor.stop('passivated');
      await backends.cache.releaseRoom(actor.code, { server_id: options.nodeId, epoch: actor.epoch }).catch(() => undefined);
    }
    return idle.length;
  }

  /**
   * Graceful stop: no new rooms or activations; every room stops taking commands at once (the
   * ones queued are told the room is moving and follow it to its new node: see
   * RoomRuntime.command; rooms that kept taking commands until idle would never be idle while
   * players play on). The move being processed in each, and the appends in flight, settle within
   * `timeoutMs` less a share kept for the hand-over; then, whatever is still stuck (a stalled
   * PostgreSQL), the leases are released, the heartbeat removed and the departure announced
   * (naming who adopts each room), each bounded too, with the snapshots the cache lacks
   * written meanwhile, so that peers take the rooms at once (`handedOver` is called then) and
   * the process ends in time. An append still unanswered then is fenced by the epoch the adopting peer
   * takes, or is in what it reads.
   */
  async drain(timeoutMs: number, handedOver: () => void = () => {}): Promise<void> {
    const { backends, options, log } = this.deps;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const handover = Math.min(2000, Math.floor(timeoutMs / 3));
    const left = (until: number) => Math.max(0, until - Date.now());
    this.placement.stopAccepting();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const actors = this.placement.hosted();
    // The rooms whose latest snapshot the cache may lack, known before they stop (stopping
    // forgets them in the writer); a move that settles after this marks its room again.
    const behind = actors.filter((a) => this.placement.snapshots.behind(a));
    for (const actor of actors) actor.stop('draining');
    // Who adopts which room (see Peers.adopters), found while the rooms settle and their leases
    // go; waited for at most a moment: without names, the peers share the rooms out themselves.
    const naming = this.peers.adopters(actors.map((a) => a.code)).catch(() => null);
    const settled = await within(
      left(deadline - handover),
      Promise.all(actors.map((a) => a.idle())).then(() => this.placement.batcher.idle(left(deadline - handover))),
    );
    if (settled !== true) log.warn({ rooms: actors.length }, 'drain: rooms or appends still busy at the deadline; handing over anyway');
    // How long each step took, logged at the end (where a drain's time goes: README, Operations).
    const steps: Record<string, number> = { settle_ms: Date.now() - started };
    // Each step of the hand-over gets what is left, and at least a moment of its own.
    const step = async (name: string, work: Promise<unknown>) => {
      const at = Date.now();
      await within(Math.max(left(deadline), 250), work.catch(() => undefined));
      steps[name] = Date.now() - at;
    };
    // Only those and the rooms marked since (most have theirs: a snapshot follows every
    // transition): writing every room's cost 100-200 ms of a drain of 50 rooms under load.
    for (const actor of behind) this.placement.snapshots.mark(actor);
    steps.snapshots = behind.length;
    // Not waited for before the leases go (it took 100-600 ms under load, behind the writes in
    // flight): an adopter that reads a snapshot a few moves behind catches up from the events,
    // as after a crash, and a write that lands after the adopter's own is refused (older epoch).
    const flushed = this.placement.snapshots.flush();
    await step('release_ms', Promise.all(actors.map((a) => a.releaseLease().catch(() => undefined))));
    // Peers adopt now instead of waiting for this heartbeat to lapse.
    await step('forget_ms', backends.cache.forgetNode(options.nodeId));
    const adopters = (await within(NAMING_WAIT_MS, naming)) ?? undefined;
    steps.named = adopters ? 1 : 0;
    await step('announce_ms', this.peers.announceGone(adopters));
    log.info({ rooms: actors.length, ...steps }, 'drain: rooms handed over');
    handedOver();
    // Written before the stores close (the adopters read less from the events).
    await step('flush_ms', flushed);
  }
}

/** How long a drain's departure waits for the names of its rooms' adopters (two Redis round trips, usually done by then). */
const NAMING_WAIT_MS = 100;

/** `work`'s result, or undefined once `ms` have passed (the work goes on unwaited). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
