/**
 * A room's spectators (PROTOCOL.md "Spectators"): who watches without a seat, here or through a
 * peer node's one listener; the cap (SPECTATORS_PER_ROOM) with the places held for arrivals;
 * the count the players' views show; and the one public frame of each change sent to all.
 * The room (room-actor.ts) owns the views and its lifetime; this keeps the spectators' side.
 */
import { deliver, type RoomListener } from './listener.js';
import type { ViewUpdate } from './view-fanout.js';

/** Spectators of one room by default (SPECTATORS_PER_ROOM), counted over every node. */
export const DEFAULT_SPECTATORS_PER_ROOM = 500;

/**
 * A change in the number of spectators reaches the players' views after this long, so that a
 * crowd arriving costs one round of views, not one per arrival.
 */
const SPECTATOR_COUNT_DELAY_MS = 200;

/**
 * A spectator let in by `spectate` holds a place under the cap until it is seen watching (its
 * attach, here or in its node's count), or for this long at most (a client gone meanwhile).
 */
const SPECTATOR_ADMISSION_MS = 5_000;

/** What the spectators need of their room. */
export interface SpectatedRoom {
  now(): number;
  /** Whether the host lets spectators watch (the room's options). */
  allowed(): boolean;
  /** Whether the room stopped on this node (no more views from here). */
  stopped(): boolean;
  /** The public frame of the room as it is now. */
  current(): ViewUpdate;
  /** Sends every watcher the views again: the count they show is out of date. */
  pushViews(): void;
}

export class RoomSpectators {
  /** Who watches without a seat: all get the one public frame of each change. */
  private readonly listeners = new Set<RoomListener>();
  /** The spectator count the views last showed, and the push pending for a new one. */
  private shownCount = 0;
  private countTimer: NodeJS.Timeout | null = null;
  /**
   * The public frames of changes not yet sent, in order: they go out on the next turn of the
   * event loop (see `queue`), all of them, before anything else reaches a spectator.
   */
  private frames: ViewUpdate[] = [];
  private flushing: NodeJS.Immediate | null = null;
  /**
   * When each place given by `admit` and not yet taken lapses: without them a crowd arriving at
   * once (through peer nodes above all, whose listener is let in whatever the count) would all
   * be let in before any of them is counted watching.
   */
  private admissions: number[] = [];

  constructor(
    private readonly room: SpectatedRoom,
    /** Spectators of the room at most, over every node (SPECTATORS_PER_ROOM). */
    readonly max: number = DEFAULT_SPECTATORS_PER_ROOM,
  ) {}

  /** Listeners attached here (a peer node's counts once). */
  get size(): number {
    return this.listeners.size;
  }

  /** Spectators of the room, here and (as their nodes last said) on peer nodes. */
  get count(): number {
    let n = 0;
    for (const listener of this.listeners) n += listener.spectators ?? 1;
    return n;
  }

  /** The count the views show now. */
  get shown(): number {
    return this.shownCount;
  }

  has(listener: RoomListener): boolean {
    return this.listeners.has(listener);
  }

  /** Whether one more spectator may watch: why not (spectating off, the room full of them), or null. */
  refusal(): string | null {
    if (!this.room.allowed()) return 'the host turned spectating off';
    if (this.count + this.pendingAdmissions() >= this.max) return 'too many spectators watch this room';
    return null;
  }

  /** A spectator arriving (`spectate`, from here or a peer): a place held for it, or why not. */
  admit(): string | null {
    const refusal = this.refusal();
    if (refusal === null) this.admissions.push(this.room.now() + SPECTATOR_ADMISSION_MS);
    return refusal;
  }

  /** `n` spectators admitted earlier are now counted watching: their held places go. */
  arrived(n: number): void {
    if (n > 0) this.admissions.splice(0, n);
  }

  private pendingAdmissions(): number {
    const now = this.room.now();
    while (this.admissions.length > 0 && this.admissions[0]! <= now) this.admissions.shift();
    return this.admissions.length;
  }

  /**
   * A spectator: no presence (nobody's turn waits for a spectator), the public frame now and
   * after every change. A peer node's listener stands for all its spectators of the room, and
   * is let in whatever the count (that node checked its own arrivals against it).
   */
  attach(listener: RoomListener): void {
    if (this.listeners.has(listener)) return;
    // Its place held since `spectate` is its own: given back before the cap is checked again.
    this.arrived(listener.spectators ?? 1);
    const refusal = listener.spectators === undefined ? this.refusal() : this.room.allowed() ? null : 'the host turned spectating off';
    if (refusal) return listener.unseated(refusal);
    // Frames still on their way to the others are older than the one this spectator starts with.
    this.flush();
    this.listeners.add(listener);
    deliver(listener, this.room.current());
    this.changed();
  }

  /**
   * The number of spectators changed (one came or went, here or on a peer node): the views
   * show the new count shortly, once for however many changes came meanwhile.
   */
  changed(): void {
    if (this.countTimer || this.room.stopped()) return;
    this.countTimer = setTimeout(() => {
      this.countTimer = null;
      if (this.count !== this.shownCount) this.room.pushViews();
    }, SPECTATOR_COUNT_DELAY_MS);
    this.countTimer.unref();
  }

  /** Removes a spectator; false if it was none here. */
  detach(listener: RoomListener): boolean {
    if (!this.listeners.delete(listener)) return false;
    this.changed();
    return true;
  }

  /** Sends an attached spectator the current frame again (after any still waiting: none may come after a newer one). */
  resend(listener: RoomListener): void {
    if (!this.listeners.has(listener)) return;
    this.flush();
    deliver(listener, this.room.current());
  }

  /** The host turned spectating off: every spectator is dropped and told (`unauthorized`). */
  dropIfClosed(): void {
    if (this.listeners.size === 0 || this.room.allowed()) return;
    this.flush();
    const gone = [...this.listeners];
    this.listeners.clear();
    for (const listener of gone) listener.unseated('the host turned spectating off');
  }

  /** The views about to be built show the count as it is now. */
  showCount(): void {
    this.shownCount = this.count;
  }

  /**
   * One public frame of a change for every spectator (a peer node's listener passes it on to
   * its own), sent on the next turn of the event loop: the players' next command is read and
   * sent to PostgreSQL first, so the spectators' sockets are written while that commit is on
   * its way rather than ahead of it.
   */
  queue(update: ViewUpdate): void {
    if (this.listeners.size === 0) return;
    this.frames.push(update);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Sends the spectators every public frame waiting for them, in order. */
  flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    if (this.frames.length === 0) return;
    const frames = this.frames;
    this.frames = [];
    for (const update of frames) for (const listener of this.listeners) deliver(listener, update);
  }

  /** The room is stopping here: no more count pushes, and frames of changes committed before go out now. */
  settle(): void {
    if (this.countTimer) clearTimeout(this.countTimer);
    this.countTimer = null;
    this.flush();
  }

  /** The room stopped here: every spectator is sent after it. */
  evictAll(reason: string): void {
    for (const listener of this.listeners) listener.evicted(reason);
    this.listeners.clear();
  }
}
