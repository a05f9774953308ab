import { randomBytes } from 'node:crypto';
import type { RoomCommand } from '../../actors/room-machine.js';
import type { GameView } from '../game/view.js';
import type { Logger } from '../log.js';
import type { Bus } from '../stores/bus.js';
import type { Outcome, RoomListener } from './room-actor.js';
import type { HandoffMessage } from './handoff.js';

/**
 * What a node asks of a room's owner. Nothing here is a secret: a resume carries the seat and
 * the sha256 of its token (what the room stores), never the token, so that whoever reads the
 * bus (or its logs) cannot take a seat.
 *
 * `watch` names one attachment of a seat by the asking node (a fresh id each time it attaches
 * the seat): the owner stamps it on the frames it sends for it, so that frames meant for an
 * earlier attachment, or sent by an earlier owner, are told apart.
 */
export type RemoteRequest =
  | { type: 'command'; player_id: string; command_id: string | null; command: RoomCommand; want_view: boolean }
  | { type: 'resume'; player_id: string; token_hash: string }
  /** A spectator arrives: the public view, or why not (spectating off, too many spectators). */
  | { type: 'spectate' }
  /** `player_id` null: the spectators of the room on the asking node, `spectators` of them. */
  | { type: 'attach'; player_id: string | null; watch: string; spectators?: number }
  | { type: 'detach'; player_id: string | null; watch: string };

export type RemoteReply = Outcome & { view?: GameView };

/** A seat watched from a node, as that node asks its owner about it (see `check`). */
export interface SeatCheck {
  room: string;
  /** null: the room's spectators on the asking node (see `spectators`). */
  player_id: string | null;
  watch: string;
  /** For the spectators' seat: how many there are on the asking node now. */
  spectators?: number;
  /** The number of the last frame the watching node got for this watch (0: none yet). */
  n: number;
}

/**
 * What the owner has for a seat a node asked about: `ok` with the number of the last frame it
 * sent; `missing` (it has no attachment of that seat for that node under that watch: it
 * dropped it, or never got it); `moved` (the room is not hosted there).
 */
export type SeatStatus = { room: string; player_id: string | null; watch: string } & ({ status: 'ok'; n: number } | { status: 'missing' } | { status: 'moved' });

export type BusMessage =
  | { kind: 'request'; from: string; id: string; room: string; request: RemoteRequest }
  | { kind: 'reply'; id: string; reply: RemoteReply }
  /**
   * A seat's view, from the room's owner to a node watching it. `epoch` is the owner's (a
   * frame of an older one is stale), `watch` the attachment it is for, `n` its number among
   * the frames sent to that attachment (1, 2, ...): a lower one is stale, a skipped one lost.
   */
  | { kind: 'state'; room: string; player_id: string | null; seq: number; frame: string; epoch: number; watch: string; n: number }
  /** The room left its owner `from`: its watchers on the receiving node find it again. */
  | { kind: 'moved'; room: string; reason: string; from: string }
  /** A player left or was removed: their watchers on the receiving node lose the seat. */
  | { kind: 'unseated'; room: string; player_id: string | null; reason: string; watch: string }
  /** The number of spectators of a room on node `from` changed (best-effort; checks carry it too). */
  | { kind: 'spectators'; from: string; room: string; watch: string; count: number }
  /**
   * `node` is gone. A draining node names who adopts each of its rooms (`adopters`: room code
   * to node), so that each peer takes exactly its own at once; what a named peer does not take
   * is left to the usual adoption of orphans.
   */
  | { kind: 'node_gone'; node: string; adopters?: Record<string, string> }
  /** `node` now hosts these rooms (it adopted or re-activated them): whoever waits for them tries again now. */
  | { kind: 'hosted'; node: string; rooms: string[] }
  /** A node (re)started: whatever other nodes believed attached there is gone. */
  | { kind: 'node_started'; node: string }
  /**
   * A watching node asks a room's owner about every seat it watches there, in one message per
   * owner (an empty list too, for a while after it stopped watching there: see `lately`).
   */
  | { kind: 'check'; from: string; id: string; seats: SeatCheck[] }
  | { kind: 'checked'; id: string; seats: SeatStatus[] }
  /** Frames were lost for these seats: the owner sends each its current view again. */
  | { kind: 'resend'; from: string; seats: Array<{ room: string; player_id: string | null; watch: string }> }
  /** An operator (golfctl drain) asks `node` to drain, as SIGTERM would. */
  | { kind: 'drain'; node: string; from: string }
  /** A draining node hands rooms, with their snapshots, to the peer it named (see handoff.ts). */
  | HandoffMessage;

/** One seat of a watched room, attached at its owner for the listeners here. */
interface Seat {
  listeners: Set<RoomListener>;
  /** This attachment's id: frames stamped with another are stale. */
  watch: string;
  /** The number of the last frame delivered for this attachment (0: none yet). */
  n: number;
  /** Its attach request is in flight: not checked until it is answered. */
  attaching: boolean;
}

interface Watched {
  owner: string;
  /** The highest epoch among the owner's frames: a frame of a lower one is stale. */
  epoch: number;
  /** By player id; null: the room's spectators here, attached at the owner as one listener. */
  seats: Map<string | null, Seat>;
}

/** How many checks an owner still gets after the last seat watched there went (see `lately`). */
const LINGERING_CHECKS = 3;

/**
 * The gateway's side of rooms hosted on other nodes: requests to their owner (with a timeout:
 * commands carry ids, so a retry after a timeout is applied at most once), and the views the
 * owner sends back for the players connected here.
 *
 * Pub/sub is best-effort (a message published while the subscriber reconnects is gone), and
 * an owner may drop this node's watchers (it thought this node dead) or send late (it stalled).
 * So frames are numbered per attachment and carry the owner's epoch: stale ones are dropped,
 * and a gap, a periodic check (`verify`, one message per owner) or a reconnection of the
 * subscriber has the owner say what it holds, whereupon lost frames are sent again and seats
 * the owner no longer holds are found again (their room is evicted here).
 */
export class RemoteRooms {
  private readonly pending = new Map<string, { owner: string; resolve: (reply: unknown) => void; timer: NodeJS.Timeout; gone: unknown }>();
  private readonly watched = new Map<string, Watched>();
  /** Owners checked in a recent round; one that no longer has seats here still gets a few. */
  private readonly lately = new Map<string, number>();
  /** Owners with a check in flight (one at a time each, unless a resync starts another). */
  private readonly checking = new Map<string, object>();
  /** Owners to check at once (a frame was missed): gathered over one turn of the event loop. */
  private readonly soon = new Set<string>();
  private counter = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  request(owner: string, room: string, request: RemoteRequest): Promise<RemoteReply> {
    return this.ask<RemoteReply>(owner, (id) => ({ kind: 'request', from: this.nodeId, id, room, request }), {
      // The owner may still apply a command (it answers within its own, shorter bound unless it
      // is stalled or cut off): not "nothing changed" but unknown; a retry by id is safe.
      timeout:
        request.type === 'command'
          ? {
              ok: false,
              code: 'unavailable',
              message: 'the room’s server did not answer in time, so whether your command was applied is unknown; retrying with the same id is safe (it is applied at most once)',
              in_doubt: true,
            }
          : { ok: false, code: 'unavailable', message: 'the room’s server did not answer; try again' },
      unreachable: { ok: false, code: 'unavailable', message: 'cannot reach the room’s server; try again' },
      // Its node is gone: the room is on its way to another (a command's doubt stays, as above).
      ...(request.type === 'command' ? {} : { gone: { ok: false, code: 'unavailable', message: 'the room’s server is gone; try again', moving: true } }),
    });
  }

  /** Sends a message that expects a reply with its id; resolves with the reply, or a fallback. */
  private ask<T>(owner: string, message: (id: string) => BusMessage, fallback: { timeout: T; unreachable: T; gone?: T }): Promise<T> {
    const id = `${this.prefix}-${++this.counter}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(fallback.timeout);
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { owner, resolve: resolve as (reply: unknown) => void, timer, gone: fallback.gone ?? fallback.timeout });
      // Nobody heard it (Redis's count of subscribers that got it is 0: the owner died, or is
      // restoring its subscription after a Redis restart): no reply will come, and nothing was
      // done, so the asker is answered now rather than after the timeout.
      const unheard = () => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        resolve(fallback.unreachable);
      };
      this.bus.send(owner, message(id)).then(
        (receivers) => {
          if (receivers === 0) unheard();
        },
        (error) => {
          this.log.warn({ err: (error as Error).message }, 'bus send failed');
          unheard();
        },
      );
    });
  }

  /**
   * `owner` is taken for dead: whatever waits for its answer is answered now, as if it had
   * timed out (a command it got may have been applied before it died: in doubt, and retried by
   * id wherever its room goes), instead of waiting out the timeout.
   */
  ownerGone(owner: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.owner !== owner) continue;
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.resolve(pending.gone);
    }
  }

  /** The owners whose answers requests here are waiting for. */
  waitingOn(): Set<string> {
    return new Set([...this.pending.values()].map((p) => p.owner));
  }

  /** Watches a seat of a room hosted elsewhere; the first watcher of a seat attaches it there. */
  async watch(owner: string, room: string, listener: RoomListener): Promise<boolean> {
    let entry = this.watched.get(room);
    if (entry && entry.owner !== owner) {
      this.evictRoom(room, 'the room moved');
      entry = undefined;
    }
    if (!entry) this.watched.set(room, (entry = { owner, epoch: 0, seats: new Map() }));
    const existing = entry.seats.get(listener.playerId);
    if (existing) {
      existing.listeners.add(listener);
      if (listener.playerId === null) this.countSpectators(room);
      return true;
    }
    const seat: Seat = { listeners: new Set([listener]), watch: `${this.prefix}-w${++this.counter}`, n: 0, attaching: true };
    entry.seats.set(listener.playerId, seat);
    // Checked from now on, even if the seat is gone by the next round (see `verify`).
    this.lately.set(owner, LINGERING_CHECKS);
    const spectators = listener.playerId === null ? { spectators: 1 } : {};
    const reply = await this.request(owner, room, { type: 'attach', player_id: listener.playerId, watch: seat.watch, ...spectators });
    // Spectators who came while the attach was on its way are counted now.
    if (listener.playerId === null && seat.listeners.size !== 1 && reply.ok) this.countSpectators(room);
    seat.attaching = false;
    // Evicted, unseated or unwatched meanwhile: its listeners were told whatever happened.
    if (this.watched.get(room)?.seats.get(listener.playerId) !== seat) return reply.ok;
    if (!reply.ok) {
      // Listeners that joined the seat meanwhile stay: the next check finds it not attached
      // there and sends them after the room again.
      this.removeListener(room, entry, listener.playerId, seat, listener, false);
      return false;
    }
    return true;
  }

  unwatch(room: string, listener: RoomListener): void {
    const entry = this.watched.get(room);
    // By listener, not by its player id: a session clears its seat before it unwatches.
    for (const [playerId, seat] of entry?.seats ?? []) {
      if (seat.listeners.has(listener)) return this.removeListener(room, entry!, playerId, seat, listener, true);
    }
  }

  private removeListener(room: string, entry: Watched, playerId: string | null, seat: Seat, listener: RoomListener, detach: boolean): void {
    seat.listeners.delete(listener);
    if (seat.listeners.size > 0) {
      if (playerId === null) this.countSpectators(room);
      return;
    }
    entry.seats.delete(playerId);
    if (detach) void this.request(entry.owner, room, { type: 'detach', player_id: playerId, watch: seat.watch });
    if (entry.seats.size === 0 && this.watched.get(room) === entry) this.watched.delete(room);
  }

  /** Rooms whose spectators here changed in number this turn (told to their owners at its end). */
  private readonly recount = new Set<string>();

  /**
   * Tells the owner how many spectators of `room` are here now, once per turn of the event loop
   * however many came or went. Best-effort: a lost notice is made good by the next check.
   */
  private countSpectators(room: string): void {
    if (this.recount.size === 0) {
      setImmediate(() => {
        const rooms = [...this.recount];
        this.recount.clear();
        for (const name of rooms) {
          const entry = this.watched.get(name);
          const seat = entry?.seats.get(null);
          if (!entry || !seat || seat.attaching) continue;
          void this.bus.send(entry.owner, { kind: 'spectators', from: this.nodeId, room: name, watch: seat.watch, count: seat.listeners.size } satisfies BusMessage).catch(() => undefined);
        }
      });
    }
    this.recount.add(room);
  }

  /** How many spectators of `room` watch through this node (0 if none, or not watched from here). */
  spectatorsHere(room: string): number {
    return this.watched.get(room)?.seats.get(null)?.listeners.size ?? 0;
  }

  /** Rooms watched from here, with the owner they are believed to be on. */
  rooms(): Array<{ room: string; owner: string }> {
    return [...this.watched].map(([room, entry]) => ({ room, owner: entry.owner }));
  }

  /** Every room watched on `owner` is looked for again (it restarted, or it is gone). */
  evictOwner(owner: string, reason: string): void {
    for (const { room, owner: o } of this.rooms()) if (o === owner) this.evictRoom(room, reason);
  }

  /** The room left its owner: every watcher here is told to find it again. */
  evictRoom(room: string, reason: string): void {
    const entry = this.watched.get(room);
    if (!entry) return;
    this.watched.delete(room);
    for (const seat of entry.seats.values()) for (const listener of seat.listeners) listener.evicted(reason);
  }

  /**
   * Asks the owners of the rooms watched here (all, or those named) about every seat watched
   * there, one message per owner, and makes good what it says: lost frames are sent again,
   * seats it does not hold (or rooms it does not host) are found again.
   */
  async verify(owners?: ReadonlySet<string>): Promise<void> {
    const byOwner = new Map<string, SeatCheck[]>();
    for (const [room, entry] of this.watched) {
      for (const [playerId, seat] of entry.seats) {
        if (seat.attaching) continue;
        let list = byOwner.get(entry.owner);
        if (!list) byOwner.set(entry.owner, (list = []));
        list.push({ room, player_id: playerId, watch: seat.watch, n: seat.n, ...(playerId === null ? { spectators: seat.listeners.size } : {}) });
      }
    }
    // An owner this node stopped watching at still hears from it a few rounds, with an empty
    // list: it drops what it still holds for this node (a detach lost on the way).
    if (!owners) {
      for (const owner of byOwner.keys()) this.lately.set(owner, LINGERING_CHECKS);
      for (const [owner, left] of this.lately) {
        // A check still in flight (its answer lost, say) holds back the next: only checks that
        // go out count against the lingering ones, or they could all pass unsent.
        if (byOwner.has(owner) || this.checking.has(owner)) continue;
        if (left <= 0) this.lately.delete(owner);
        else {
          this.lately.set(owner, left - 1);
          byOwner.set(owner, []);
        }
      }
    }
    await Promise.all([...byOwner].filter(([owner]) => !owners || owners.has(owner)).map(([owner, seats]) => this.check(owner, seats)));
  }

  /**
   * After this node's subscription came back: everything sent here meanwhile is lost, the
   * answers to checks in flight included, so every owner is asked at once, those too. So are
   * the replies to requests in flight: each is answered now as if it had timed out (a command
   * in doubt, retried by id; an attach tried again by its session), instead of waiting out the
   * timeout (seconds) while its seat, still attaching, gets no views and no check.
   */
  resync(): Promise<void> {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.resolve(pending.gone);
    }
    this.checking.clear();
    return this.verify();
  }

  private async check(owner: string, seats: SeatCheck[]): Promise<void> {
    if (this.checking.has(owner)) return;
    const token = {};
    this.checking.set(owner, token);
    let answer: SeatStatus[] | null;
    try {
      answer = await this.ask<SeatStatus[] | null>(owner, (id) => ({ kind: 'check', from: this.nodeId, id, seats }), { timeout: null, unreachable: null });
    } finally {
      if (this.checking.get(owner) === token) this.checking.delete(owner);
    }
    // No answer: the owner may be gone; the owners check (by heartbeat) deals with that.
    if (!answer) return;
    // The answer came after every frame the owner sent before it (one connection each way, in
    // order): a seat still behind the owner's count lost frames.
    const evict = new Map<string, string>();
    const resend: Array<{ room: string; player_id: string | null; watch: string }> = [];
    for (const status of answer) {
      const entry = this.watched.get(status.room);
      const seat = entry?.seats.get(status.player_id);
      // Changed meanwhile (moved, attached again, given up): the next check looks again.
      if (!entry || entry.owner !== owner || !seat || seat.watch !== status.watch || seat.attaching) continue;
      if (status.status === 'moved') evict.set(status.room, 'the room is no longer on its server');
      else if (status.status === 'missing') evict.set(status.room, 'its server no longer sends this seat’s views');
      else if (seat.n < status.n) resend.push({ room: status.room, player_id: status.player_id, watch: status.watch });
    }
    for (const [room, reason] of evict) this.evictRoom(room, reason);
    if (evict.size > 0 || resend.length > 0) this.log.info({ owner, evicted: evict.size, resent: resend.length }, 'views checked with a room owner: some were lost');
    if (resend.length > 0) await this.bus.send(owner, { kind: 'resend', from: this.nodeId, seats: resend } satisfies BusMessage).catch(() => undefined);
  }

  /** A frame was missed from `owner`: check with it at once (gathered over this turn). */
  private checkSoon(owner: string): void {
    if (this.soon.size === 0) {
      setImmediate(() => {
        const owners = new Set(this.soon);
        this.soon.clear();
        void this.verify(owners);
      });
    }
    this.soon.add(owner);
  }

  deliver(message: BusMessage): void {
    switch (message.kind) {
      case 'reply':
      case 'checked': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        clearTimeout(pending.timer);
        this.pending.delete(message.id);
        pending.resolve(message.kind === 'reply' ? message.reply : message.seats);
        return;
      }
      case 'state': {
        const entry = this.watched.get(message.room);
        const seat = entry?.seats.get(message.player_id);
        // Stale: for an attachment given up, from an older owner, or older than what was shown.
        if (!entry || !seat || message.watch !== seat.watch || message.epoch < entry.epoch || message.n <= seat.n) {
          this.log.debug({ room: message.room, epoch: message.epoch, n: message.n, seq: message.seq }, 'stale view dropped');
          return;
        }
        // A frame is the whole view, so this one stands for those missed; the owner is asked
        // at once whether any came after it.
        if (message.n > seat.n + 1) this.checkSoon(entry.owner);
        entry.epoch = message.epoch;
        seat.n = message.n;
        for (const listener of seat.listeners) listener.state(message.seq, message.frame);
        return;
      }
      case 'moved': {
        // Only from the owner the room is watched on: a late notice from an earlier one is not news.
        if (this.watched.get(message.room)?.owner === message.from) this.evictRoom(message.room, message.reason);
        return;
      }
      case 'unseated': {
        // The owner has already dropped this seat's watchers: nothing to detach there.
        const entry = this.watched.get(message.room);
        const seat = entry?.seats.get(message.player_id);
        if (!entry || !seat || seat.watch !== message.watch) return;
        entry.seats.delete(message.player_id);
        if (entry.seats.size === 0) this.watched.delete(message.room);
        for (const listener of seat.listeners) listener.unseated(message.reason);
        return;
      }
    }
  }
}
