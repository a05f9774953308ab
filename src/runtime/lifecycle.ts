import type { FailureDetector } from './failure-detector.js';
import { handOff, within } from './handoff.js';
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
  /** The heartbeat's own timer: a drain keeps it beating until the node says it is gone. */
  private beatTimer: NodeJS.Timeout | null = null;
  /** The heartbeat being written, if one is (a departure waits for it: it must not land after the `gone` mark). */
  private beating: Promise<void> | null = null;

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
    this.beatTimer = setInterval(() => {
      this.beating = this.heartbeat()
        .catch((error) => log.warn({ err: (error as Error).message }, 'heartbeat failed'))
        .finally(() => (this.beating = null));
    }, Math.max(50, Math.floor(ttl / 3)));
    this.beatTimer.unref();
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
   * Graceful stop: no new rooms or activations. The rooms are handed to peers a few at a time
   * (handoff.ts: each stopped, settled and sent with its snapshot to the peer named for it, the
   * others playing on meanwhile), so that each room pauses only for its own hand-over, not the
   * whole node's; its queued commands are told the room is moving and follow it (see
   * RoomRuntime.command). What was not handed over that way (no peer to name, a peer that did not
   * say it hosts it in time, the time up) stops then: the move being processed in each and the
   * appends in flight settle within `timeoutMs` less a share kept for the departure; then,
   * whatever is still stuck (a stalled PostgreSQL), the leases are released, the heartbeat
   * removed and the departure announced (naming who adopts each room left), each bounded too,
   * with the snapshots the cache lacks written meanwhile, so that peers take the rooms at once
   * (`handedOver` is called then) and the process ends in time. An append still unanswered then
   * is fenced by the epoch the adopting peer takes, or is in what it reads.
   * When every room was handed over, `handedOver` comes first (its clients move while this
   * node still counts as alive, so that peers keep sending views to its sockets through the
   * watchers they hold for it), awaited within what is left of the bound, and the departure
   * after.
   */
  async drain(timeoutMs: number, handedOver: () => void | Promise<void> = () => {}): Promise<void> {
    const { backends, options, log } = this.deps;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const handover = Math.min(2000, Math.floor(timeoutMs / 3));
    const left = (until: number) => Math.max(0, until - Date.now());
    this.placement.stopAccepting();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const actors = this.placement.hosted();
    // Who adopts which room (see Peers.adopters): the rooms play on while it is asked.
    const adopters = (await within(NAMING_WAIT_MS, this.peers.adopters(actors.map((a) => a.code)).catch(() => null))) ?? null;
    const steps: Record<string, number> = { naming_ms: Date.now() - started, named: adopters ? 1 : 0 };
    let handed = new Set<string>();
    if (adopters) {
      const at = Date.now();
      handed = await handOff(actors, adopters, this.placement, this.deps, deadline - handover);
      steps.handoff_ms = Date.now() - at;
    }
    steps.handed = handed.size;
    const rest = actors.filter((a) => !handed.has(a.code));
    if (rest.length === 0) {
      log.info({ rooms: actors.length, ...steps }, 'drain: rooms handed over');
      const at = Date.now();
      await within(left(deadline), Promise.resolve(handedOver()).catch(() => undefined));
      steps.clients_ms = Date.now() - at;
      await this.depart(undefined, steps, left(deadline));
      log.info(steps, 'drain: departed');
      return;
    }
    // The rooms whose latest snapshot the cache may lack, known before they stop (stopping
    // forgets them in the writer); a move that settles after this marks its room again.
    const behind = rest.filter((a) => this.placement.snapshots.behind(a));
    for (const actor of rest) actor.stop('draining');
    const settleAt = Date.now();
    const settled = await within(
      left(deadline - handover),
      Promise.all(rest.map((a) => a.idle())).then(() => this.placement.batcher.idle(left(deadline - handover))),
    );
    if (settled !== true) log.warn({ rooms: rest.length }, 'drain: rooms or appends still busy at the deadline; handing over anyway');
    // How long each step took, logged at the end (where a drain's time goes: README, Operations).
    steps.settle_ms = Date.now() - settleAt;
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
    await step('release_ms', Promise.all(rest.map((a) => a.releaseLease().catch(() => undefined))));
    const named = adopters ? renamed(adopters, handed) : undefined;
    await this.depart(named, steps, left(deadline));
    log.info({ rooms: actors.length, ...steps }, 'drain: rooms handed over');
    // Clients move now too (their sockets stay served meanwhile, views coming only from the
    // peers that still hold watchers for this node): bounded like every step.
    await step('clients_ms', Promise.resolve(handedOver()));
    // Written before the stores close (the adopters read less from the events).
    await step('flush_ms', flushed);
  }

  /**
   * The departure: the heartbeat stops (one being written is waited for: it must not land on
   * the `gone` mark), the mark is written, so that peers adopt what is left at once instead of
   * waiting for the heartbeat to lapse, and peers are told (naming who adopts each room left).
   */
  private async depart(named: Record<string, string> | undefined, steps: Record<string, number>, ms: number): Promise<void> {
    const { backends, options } = this.deps;
    const bound = Math.max(ms, 250);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    let at = Date.now();
    await within(bound, (this.beating ?? Promise.resolve()).then(() => backends.cache.forgetNode(options.nodeId)).catch(() => undefined));
    steps.forget_ms = Date.now() - at;
    at = Date.now();
    await within(bound, this.peers.announceGone(named).catch(() => undefined));
    steps.announce_ms = Date.now() - at;
  }
}

/**
 * The rooms not handed over, named again for the departure: to the peers that took rooms in
 * the hand-over (one that took none may be frozen: its rooms go round the others), or as named
 * before if none did.
 */
function renamed(adopters: Record<string, string>, handed: ReadonlySet<string>): Record<string, string> {
  const took = [...new Set([...handed].map((room) => adopters[room]!))].sort();
  const left = Object.keys(adopters).filter((room) => !handed.has(room)).sort();
  const named: Record<string, string> = {};
  let i = 0;
  for (const room of left) named[room] = took.length === 0 || took.includes(adopters[room]!) ? adopters[room]! : took[i++ % took.length]!;
  return named;
}

/**
 * How long a drain waits for the names of its rooms' adopters (two Redis round trips, usually
 * done within milliseconds; the rooms play on meanwhile): without names, every room is left to
 * the departure, and the peers share them out themselves.
 */
const NAMING_WAIT_MS = 1000;
