import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { RoomCommand } from '../../actors/room-machine.js';
import type { GameView } from '../game/view.js';
import type { Logger } from '../log.js';
import type { ErrorCode, Outcome, RoomListener } from '../runtime/room-actor.js';
import type { RoomRuntime, Seat, Failure, Spectating } from '../runtime/runtime.js';
import { newPlayerId } from '../runtime/tokens.js';
import { OPEN_GATE, type RoomGate } from './limits.js';
import type { ViewUpdate } from '../runtime/view-fanout.js';
import { FRAME_KINDS, frameId, parseClientFrame, publicMessage, type ClientMessage, type ServerMessage } from './protocol.js';
import { SeatRetries, type SeatTaken } from './seat-retries.js';
import { corkForTurn, type Corkable } from './corked-writes.js';

/**
 * The seat a connection holds: its room, its player, and the game (named in the logs). A
 * spectator holds a seat with no player (`playerId` null): it watches the public view.
 */
type HeldSeat = { room: string; playerId: string | null; gameId: string };

/** Requests that take a seat (or a spectator's place). */
const TAKES_SEAT: ReadonlySet<string> = new Set(['resume', 'create_room', 'join_room', 'watch']);

/** What a spectator may send (PROTOCOL.md "Spectators"); anything else is `unauthorized`. */
const SPECTATOR_MESSAGES: ReadonlySet<string> = new Set(['watch', 'hello', 'sync', 'leave', 'ping']);

export interface SessionLimits {
  /** Messages a client may send in a burst, and per second after it. */
  burst: number;
  perSecond: number;
  /** Refused messages (garbage or over the rate) tolerated within `windowMs` before a 1008 close. */
  strikes: number;
  windowMs: number;
  /** Above this many buffered bytes a client only gets the latest state. */
  slowBytes: number;
  /** Above this many buffered bytes a client that does not read is dropped. */
  dropBytes: number;
  /** A socket that has not taken a seat within this time is closed (SEAT_TIMEOUT_CLOSE). */
  seatTimeoutMs: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  burst: 40,
  perSecond: 20,
  strikes: 25,
  windowMs: 10_000,
  slowBytes: 256 * 1024,
  dropBytes: 8 * 1024 * 1024,
  seatTimeoutMs: 30_000,
};

/** How long a seat follows its room while PostgreSQL does not answer, before the client is told to reconnect. */
const FOLLOW_STORE_WAIT_MS = 60_000;

/** Close code for a socket that took no seat in time (the web client reopens on demand). */
export const SEAT_TIMEOUT_CLOSE = 4000;

/**
 * One WebSocket connection: validates and rate-limits what the client sends, seats it
 * (create, join, resume), forwards its commands to the room, and sends it its own view after
 * every change (only the latest one when it reads slowly).
 */
export class Session implements RoomListener {
  private seat: HeldSeat | null = null;
  private tokens: number;
  private lastRefill: number;
  private strikes: number[] = [];
  /** The latest view a slow reader has not been sent yet (it gets it whole). */
  private pendingView: ViewUpdate | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private seatTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Seat-taking commands by id: a retry gets the seat the first attempt took. */
  private readonly retries = new SeatRetries();
  /** The seat a `leave` in flight gives up (its own ack says so; no notice needed). */
  private leaving: HeldSeat | null = null;
  /** The current seat's latest view (a retried seat-taking command and a `sync` get it). */
  private latest: ViewUpdate | null = null;
  /** A seat-taking request (resume, create, join, watch) being served: what comes after it waits for it. */
  private seating: Promise<void> | null = null;
  /** The client asked for patches (`hello`). */
  private patches = false;
  /** The number of the last view sent on this connection (welcome, state, patch). */
  private rev = 0;
  /** Which view (ViewUpdate.id) the client holds as `rev`: null when a patch could not apply to it. */
  private held: number | null = null;
  /** The last view frame sent was `latest`, whole (a `sync` now would only repeat it). */
  private wholeLatest = false;
  /** The sequence of the latest view sent (a spectator's `leave` is acked with it). */
  private latestSeq = 0;
  /** Set when the server ends the connection: nothing the client sent is served after it. */
  private closing = false;
  /** The client was told to reconnect elsewhere (a drain): told once. */
  private toldToGo = false;
  /** A resume in flight: resolves once it is answered (see dispatch). */
  private resuming: Promise<void> | null = null;
  /** Commands sent to rooms and not answered yet (a drain tells the client to go after them). */
  private commandsInFlight = 0;
  /** Why the client is to go, once its commands in flight are answered (see sendAway). */
  private awayReason: string | null = null;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly runtime: RoomRuntime,
    private readonly log: Logger,
    private readonly limits: SessionLimits = DEFAULT_LIMITS,
    /** The per-address limits on creating and joining rooms of this client's address. */
    private readonly gate: RoomGate = OPEN_GATE,
    /** The connection under `ws` (absent in tests that hand a bare WebSocket): see `write`. */
    private readonly socket?: Corkable,
  ) {
    this.tokens = limits.burst;
    this.lastRefill = Date.now();
    this.armSeatTimer();
  }

  /** RoomListener: the seat watched; null for a spectator. */
  get playerId(): string | null {
    return this.seat ? this.seat.playerId : '';
  }

  get room(): string | null {
    return this.seat?.room ?? null;
  }

  /** One frame from the client, as ws delivered it (size is checked on these bytes). */
  handle(frame: Buffer, isBinary = false): void {
    // ws still delivers the frames that were on the wire when the connection started closing:
    // a client cut off is served nothing more.
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.takeToken()) {
      this.error(isBinary ? undefined : frameId(frame), 'rate_limited', 'too many messages; slow down');
      this.strike('rate limit');
      return;
    }
    const parsed = isBinary ? ({ ok: false, id: undefined, message: 'text frames only' } as const) : parseClientFrame(frame);
    if (!parsed.ok) {
      this.error(parsed.id, 'bad_request', parsed.message);
      this.strike('bad requests');
      return;
    }
    const { message, id } = parsed;
    const go = () =>
      this.dispatch(message, id).catch((error) => {
        this.log.error({ room: this.seat?.room, game_id: this.seat?.gameId, player_id: this.seat?.playerId, err: (error as Error).message, stack: (error as Error).stack }, 'command failed');
        this.error(id, 'unavailable', 'internal error');
      });
    if (TAKES_SEAT.has(message.type)) {
      const taking = go();
      this.seating = taking;
      void taking.then(() => {
        if (this.seating === taking) this.seating = null;
      });
    } else if (this.seating && message.type !== 'hello') {
      // A client sends what it had queued right after its resume (a move the socket's close
      // left unanswered, say): it acts for the seat the resume takes, so it waits for it.
      void this.seating.then(go);
    } else void go();
  }

  private async dispatch(message: ClientMessage, id: string | undefined): Promise<void> {
    const commandId = id ?? null;
    if (this.seat && this.seat.playerId === null && !SPECTATOR_MESSAGES.has(message.type)) {
      return this.error(id, 'unauthorized', 'a spectator may only watch, sync or leave; leave first to take a seat');
    }
    switch (message.type) {
      case 'watch':
        return this.watchRoom(message.room, id);
      case 'create_room':
      case 'join_room':
        return this.takeSeat(message, id);
      // Both are acked like any command (after their answer), so that every frame gets one.
      case 'hello':
        this.patches = message.accept.includes('patch');
        this.send({ type: 'hello', accept: FRAME_KINDS.filter((kind) => message.accept.includes(kind)) });
        return this.ack(id, this.latest?.seq ?? 0);
      case 'ping':
        return this.ack(id, this.latestSeq);
      case 'sync':
        if (!this.seat || !this.latest) return this.error(id, 'unauthorized', 'create, join or resume a room first');
        // A client out of step: the whole view, and patches from it on. Each answer is a whole
        // view (~2.5 KB for a 15-byte ask): a sync of a view the client was sent whole already
        // is answered but counts against it like a refused message (a flood of them is closed),
        // and one behind in reading gets it when it catches up, with any view that comes
        // meanwhile (a buffer full of answers it does not read is never built up).
        if (this.wholeLatest) this.strike('redundant syncs');
        if (this.pendingView === null) {
          if (this.behind()) this.holdBack(this.latest);
          else this.sendView(this.latest, true);
        }
        return this.ack(id, this.latest.seq);
      case 'resume': {
        // A made-up token names a room code: it is a guess like a join by code (limited per
        // address, refunded when it finds its seat), and its refusal says nothing about whether
        // the room exists.
        if (!this.gate.takeGuess()) return this.seatWith({ ok: false, code: 'rate_limited', message: 'too many tokens that name no seat; wait a minute' }, id);
        let settle!: () => void;
        const seated = new Promise<void>((resolve) => (settle = resolve));
        this.resuming = seated;
        try {
          const result = await this.runtime.resume(message.token);
          if (result.ok || result.code !== 'unauthorized') {
            this.gate.refundGuess();
            return this.seatWith(result, id);
          }
          return this.error(id, 'unauthorized', 'that token is not valid');
        } finally {
          if (this.resuming === seated) this.resuming = null;
          settle();
        }
      }
    }
    // A command sent right behind a resume (a client resending its move after reconnecting)
    // is served once the resume has its answer, not refused for coming a moment early.
    if (!this.seat && this.resuming) await this.resuming;
    const seat = this.seat;
    if (!seat) return this.error(id, 'unauthorized', 'create, join or resume a room first');
    if (seat.playerId === null) {
      // A spectator's leave: it stops watching, and no room hears of it but its own count.
      this.unseat();
      this.armSeatTimer();
      return this.ack(id, this.latestSeq);
    }
    const playerId = seat.playerId;
    const command = toRoomCommand(message as Exclude<ClientMessage, { type: 'create_room' | 'join_room' | 'resume' | 'watch' | 'hello' | 'sync' | 'ping' }>);
    if (message.type === 'leave') this.leaving = seat;
    this.commandsInFlight++;
    try {
      await this.runtime.command(seat.room, playerId, commandId, command, (outcome: Outcome) => {
        if (!outcome.ok) {
          if (message.type === 'leave' && this.leaving === seat) this.leaving = null;
          return this.error(id, outcome.code, outcome.message, outcome.in_doubt);
        }
        this.ack(id, outcome.seq);
        if (message.type === 'leave') {
          this.unseat();
          this.armSeatTimer();
        }
      });
    } finally {
      this.commandsInFlight--;
      if (this.commandsInFlight === 0 && this.awayReason !== null) this.sendAway(this.awayReason);
    }
  }

  /**
   * create_room and join_room. With an id, a retry of the same command on this connection (after
   * a client-side timeout, say) is answered with the seat the first attempt took, not a new one.
   */
  private async takeSeat(message: Extract<ClientMessage, { type: 'create_room' | 'join_room' }>, id: string | undefined): Promise<void> {
    const attempt = () => this.attemptSeat(message);
    if (id === undefined) return this.seatWith(await attempt(), id);
    const fingerprint = JSON.stringify(message);
    const earlier = this.retries.earlier(id, fingerprint);
    if (earlier === 'other') return this.error(id, 'bad_request', 'that id was already used for a different command; use a new id for a new command');
    if (!earlier) {
      const outcome = attempt();
      this.retries.remember(id, fingerprint, outcome);
      return this.seatWith(await outcome, id);
    }
    const result = await earlier;
    if (!result.ok) return this.seatWith(result, id);
    const seat = this.seat;
    const latest = this.latest;
    // The connection has moved to another seat since: it takes this one back, as a resume would.
    if (!seat || seat.room !== result.room || seat.playerId !== result.player_id || !latest) return this.seatWith(await this.runtime.resume(result.token), id);
    // The same seat, welcomed again with its latest view (the room may have moved on since).
    this.welcome(result, latest.seq, JSON.parse(latest.state) as GameView);
    this.send({ type: 'ack', id, seq: result.seq });
  }

  /**
   * One attempt at a seat, within the address's limits: rooms created or joined at a rate, and
   * (since guessing codes finds other people's rooms) a few misses of unknown codes a window.
   */
  private async attemptSeat(message: Extract<ClientMessage, { type: 'create_room' | 'join_room' }>): Promise<Seat | Failure> {
    const limited = (why: string): Failure => ({ ok: false, code: 'rate_limited', message: why });
    const roomRate = 'too many rooms created or joined from your address; wait a little';
    if (message.type === 'create_room') {
      if (!this.gate.takeRoom()) return limited(roomRate);
      return this.runtime.createRoom(message.name, message.options ?? {});
    }
    if (!this.gate.takeGuess()) return limited('too many unknown room codes; wait a minute');
    if (!this.gate.takeRoom()) {
      this.gate.refundGuess();
      return limited(roomRate);
    }
    const result = await this.runtime.joinRoom(message.room, message.name);
    if (result.ok || result.code !== 'unknown_room') this.gate.refundGuess();
    return result;
  }

  /**
   * `watch`: a spectator's seat. Like a join by code it is a guess at a room (limited per
   * address, refunded when the code names a room) and is rated with joins.
   */
  private async watchRoom(room: string, id: string | undefined): Promise<void> {
    if (!this.gate.takeGuess()) return this.seatWith({ ok: false, code: 'rate_limited', message: 'too many unknown room codes; wait a minute' }, id);
    if (!this.gate.takeRoom()) {
      this.gate.refundGuess();
      return this.seatWith({ ok: false, code: 'rate_limited', message: 'too many rooms created, joined or watched from your address; wait a little' }, id);
    }
    const result = await this.runtime.spectate(room);
    if (result.ok || result.code !== 'unknown_room') this.gate.refundGuess();
    this.seatWith(result, id);
  }

  private seatWith(result: Seat | Spectating | Failure, id: string | undefined): void {
    if (!result.ok) {
      // Past an address's room or guess limit: a client that keeps on is closed like a flood.
      if (result.code === 'rate_limited') this.strike('room rate');
      return this.error(id, result.code, result.message, result.in_doubt);
    }
    this.unseat();
    if (this.closed) return;
    const seated = 'player_id' in result;
    const seat: HeldSeat = { room: result.room, playerId: seated ? result.player_id : null, gameId: result.view.game_id };
    this.seat = seat;
    this.latestSeq = result.seq;
    this.clearSeatTimer();
    this.welcome(result, result.seq, result.view);
    if (id !== undefined) this.send({ type: 'ack', id, seq: result.seq });
    // A game that is over and hosted nowhere changes no more: there is nothing to follow.
    if (!(seated && result.ended)) this.followSafely(seat);
  }

  /** A `welcome`: a full view, so the client holds no view a patch could follow until the next one. */
  private welcome(seat: SeatTaken | Spectating, seq: number, view: GameView): void {
    this.latest = { seq, id: null, state: JSON.stringify(view), patch: null };
    this.held = null;
    this.wholeLatest = true;
    const seated = 'player_id' in seat;
    this.send({ type: 'welcome', room: seat.room, player_id: seated ? seat.player_id : null, token: seated ? seat.token : null, seq, rev: ++this.rev, state: view });
  }

  /** follow, in the background: a store that fails meanwhile sends the client to reconnect. */
  private followSafely(seat: HeldSeat): void {
    this.follow(seat).catch((error) => {
      this.log.warn({ room: seat.room, game_id: seat.gameId, player_id: seat.playerId, err: (error as Error).message }, 'could not watch the room');
      if (this.seat === seat && !this.closed) this.send({ type: 'reconnect', reason: 'the room could not be reached; resume to continue' });
    });
  }

  /**
   * Watches the seat's room (here or on its node), retrying for a while if it is moving; while
   * PostgreSQL does not answer, for as long as that lasts (up to a minute, not counted), and
   * again the moment it answers.
   */
  private async follow(seat: HeldSeat): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; attempt < 20; attempt++) {
      if (this.seat !== seat || this.closed) return;
      const tried = Date.now();
      if ((await this.runtime.watch(seat.room, this)) !== 'unreachable') return;
      if (!this.runtime.storeAnswering && Date.now() - started < FOLLOW_STORE_WAIT_MS) attempt--;
      await this.runtime.nextChance(seat.room, 250, tried);
    }
    if (this.seat === seat && !this.closed) this.send({ type: 'reconnect', reason: 'the room could not be reached; resume to continue' });
  }

  private unseat(): void {
    if (!this.seat) return;
    const room = this.seat.room;
    this.seat = null;
    this.latest = null;
    this.held = null;
    this.pendingView = null;
    this.leaving = null;
    this.runtime.unwatch(room, this);
  }

  /** RoomListener: this player's view after a change, with the patch from the one before. */
  view(update: ViewUpdate): void {
    this.latest = update;
    this.wholeLatest = false;
    this.latestSeq = update.seq;
    if (!this.writable()) return;
    if (this.behind()) return this.holdBack(update);
    this.sendView(update, false);
  }

  /** The client has not read what it was sent (or a view is already held back for it). */
  private behind(): boolean {
    return this.pendingView !== null || this.ws.bufferedAmount > this.limits.slowBytes;
  }

  /**
   * A slow reader gets the latest view when it catches up, not every intermediate one (so it
   * gets it whole: the patches between are skipped).
   */
  private holdBack(update: ViewUpdate): void {
    this.pendingView = update;
    this.flushTimer ??= setInterval(() => this.flushPending(), 50);
  }

  /**
   * RoomListener: a serialised `state` frame (`{ type: 'state', seq, state }`), as a peer node
   * relays it: sent whole (no patch can follow a view whose number is not known here).
   */
  state(seq: number, frame: string): void {
    const prefix = `{"type":"state","seq":${seq},"state":`;
    const state = frame.startsWith(prefix) ? frame.slice(prefix.length, -1) : JSON.stringify((JSON.parse(frame) as { state: unknown }).state);
    this.view({ seq, id: null, state, patch: null });
  }

  /** A view as a patch when the client takes them and holds the view it applies to, else whole. */
  private sendView(update: ViewUpdate, whole: boolean): void {
    if (!this.writable()) return;
    const base = this.rev;
    const rev = ++this.rev;
    const patch = !whole && this.patches && update.patch !== null && this.held !== null && update.patch.prior === this.held ? update.patch : null;
    this.held = update.id;
    this.wholeLatest = patch === null && update === this.latest;
    this.write(
      patch
        ? `{"type":"patch","seq":${update.seq},"rev":${rev},"base":${base},"ops":${patch.ops}}`
        : `{"type":"state","seq":${update.seq},"rev":${rev},"state":${update.state}}`,
    );
  }

  /** RoomListener: the room left where it was; find it again (here, or on another node). */
  evicted(reason: string): void {
    // Its next view comes from another actor (here or on another node): whole.
    this.held = null;
    const seat = this.seat;
    // Followed on a draining node too: its rooms move to peers while its sockets stay served,
    // views and all, until their clients have resumed elsewhere (overlap: see sendAway).
    if (!seat || this.closed) return;
    this.log.debug({ room: seat.room, game_id: seat.gameId, player_id: seat.playerId, reason }, 'room moved; following it');
    this.followSafely(seat);
  }

  /**
   * RoomListener: the seat is gone (the player left on another connection, or the host removed
   * them). This connection holds no seat any more and is told so; the room sends it nothing.
   */
  unseated(reason: string): void {
    const seat = this.seat;
    if (!seat) return;
    const leavingHere = this.leaving === seat;
    this.leaving = null;
    this.unseat();
    if (!leavingHere) this.send({ type: 'error', code: 'unauthorized', message: seat.playerId === null ? `${reason}: you are no longer watching` : `${reason}: you have no seat here now` });
    // Without a seat it is a socket like any other that has not taken one: it has a while to.
    this.armSeatTimer();
  }

  /**
   * Tells the client to reconnect elsewhere (once), leaving the socket open. With `overlap`
   * (a drain whose rooms are all on peers already) it is told at once that this socket stays
   * served until it closes it: it resumes on another node meanwhile, then closes this one, and
   * nothing it sends here in between waits. Without, a client with commands in flight (caught
   * moving with their rooms, they follow them) is told once they are answered, here: a client
   * closes its socket when told, and would get the answers only after resuming elsewhere, later.
   */
  sendAway(reason: string, overlap = false): void {
    if (this.toldToGo) return;
    if (this.commandsInFlight > 0 && !overlap) {
      this.awayReason = reason;
      return;
    }
    this.toldToGo = true;
    this.awayReason = null;
    this.send(overlap ? { type: 'reconnect', reason, overlap: true } : { type: 'reconnect', reason });
  }

  /** Tells the client to reconnect elsewhere (unless told already), then closes with 1012 (service restart). */
  goAway(reason: string): void {
    this.awayReason = null;
    if (!this.toldToGo) {
      this.toldToGo = true;
      this.send({ type: 'reconnect', reason });
    }
    this.ws.close(1012, 'server restarting');
  }

  onClose(): void {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.clearSeatTimer();
    this.unseat();
  }

  /** Every refusal goes out here: internal failures are told in generic words (publicMessage). */
  private error(id: string | undefined, code: ErrorCode, message: string, inDoubt?: boolean): void {
    const told = publicMessage(code, message, inDoubt);
    if (told !== message) this.log.debug({ code, err: message }, 'refusal told in generic words');
    this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code, message: told });
  }

  /** (Re)starts the wait for a seat: a socket that sits without one is closed when it ends. */
  private armSeatTimer(): void {
    this.clearSeatTimer();
    this.seatTimer = setTimeout(() => {
      this.seatTimer = null;
      if (this.seat || this.closing || this.closed) return;
      this.closing = true;
      this.ws.close(SEAT_TIMEOUT_CLOSE, 'no seat taken in time');
    }, this.limits.seatTimeoutMs);
    this.seatTimer.unref();
  }

  private clearSeatTimer(): void {
    if (this.seatTimer) clearTimeout(this.seatTimer);
    this.seatTimer = null;
  }

  /** The acknowledgement of a message (its id, if it had one) at the room's sequence `seq`. */
  private ack(id: string | undefined, seq: number): void {
    // The text JSON.stringify gives `{ type: 'ack', id?, seq }`, without building the object (one a move).
    if (this.writable()) this.write(id === undefined ? `{"type":"ack","seq":${seq}}` : `{"type":"ack","id":${JSON.stringify(id)},"seq":${seq}}`);
  }

  /** Replies and notices: never dropped (they are small and each one matters). */
  send(message: ServerMessage): void {
    if (this.writable()) this.write(JSON.stringify(message));
  }

  /** Frames of one turn of the event loop leave this socket in one write (see corked-writes.ts). */
  private write(text: string): void {
    if (this.socket) corkForTurn(this.socket);
    this.ws.send(text);
  }

  /** Open, and not hopelessly behind: a client that does not read at all is dropped. */
  private writable(): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > this.limits.dropBytes) {
      this.log.warn({ buffered: this.ws.bufferedAmount }, 'dropping a client that does not read');
      this.ws.terminate();
      return false;
    }
    return true;
  }

  private flushPending(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.slowBytes) return;
    const pending = this.pendingView;
    this.pendingView = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (pending !== null) this.sendView(pending, true);
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.limits.perSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private strike(why: string): void {
    const now = Date.now();
    this.strikes = this.strikes.filter((t) => now - t < this.limits.windowMs);
    this.strikes.push(now);
    if (this.strikes.length > this.limits.strikes && !this.closing) {
      this.log.info({ why }, 'closing an abusive client (1008)');
      this.closing = true;
      this.ws.close(1008, why);
      // No closing handshake to wait for: the socket goes as soon as the close frame is out
      // (a moment), and nothing it sends meanwhile is served (`closing`).
      setTimeout(() => this.ws.terminate(), 200).unref();
    }
  }
}

function toRoomCommand(message: Exclude<ClientMessage, { type: 'create_room' | 'join_room' | 'resume' | 'watch' | 'hello' | 'sync' | 'ping' }>): RoomCommand {
  switch (message.type) {
    case 'add_cpu':
      return { type: 'add_cpu', profile: message.profile ?? null, new_player_id: newPlayerId('cpu') };
    case 'next_game':
      // The new game's id is made here, like a new seat's: the room machine takes no randomness.
      return { type: 'next_game', game_id: randomUUID() };
    default:
      return message as RoomCommand;
  }
}
