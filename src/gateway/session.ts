import { WebSocket } from 'ws';
import type { RoomCommand } from '../../actors/room-machine.js';
import type { GameView } from '../game/view.js';
import type { Logger } from '../log.js';
import type { ErrorCode, Outcome, RoomListener } from '../runtime/room-actor.js';
import type { RoomRuntime, Seat, Failure } from '../runtime/runtime.js';
import { newPlayerId } from '../runtime/tokens.js';
import { frameId, parseClientFrame, type ClientMessage, type ServerMessage } from './protocol.js';
import { SeatRetries } from './seat-retries.js';

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
}

export const DEFAULT_LIMITS: SessionLimits = { burst: 40, perSecond: 20, strikes: 25, windowMs: 10_000, slowBytes: 256 * 1024, dropBytes: 8 * 1024 * 1024 };

/**
 * One WebSocket connection: validates and rate-limits what the client sends, seats it
 * (create, join, resume), forwards its commands to the room, and sends it its own view after
 * every change (only the latest one when it reads slowly).
 */
export class Session implements RoomListener {
  private seat: { room: string; playerId: string } | null = null;
  private tokens: number;
  private lastRefill: number;
  private strikes: number[] = [];
  /** The latest `state` frame a slow reader has not been sent yet. */
  private pendingState: string | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Seat-taking commands by id: a retry gets the seat the first attempt took. */
  private readonly retries = new SeatRetries();
  /** The seat a `leave` in flight gives up (its own ack says so; no notice needed). */
  private leaving: { room: string; playerId: string } | null = null;
  /** The current seat's latest `state` frame (a retried seat-taking command is answered with it). */
  private latestFrame: string | null = null;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly runtime: RoomRuntime,
    private readonly log: Logger,
    private readonly limits: SessionLimits = DEFAULT_LIMITS,
  ) {
    this.tokens = limits.burst;
    this.lastRefill = Date.now();
  }

  get playerId(): string {
    return this.seat?.playerId ?? '';
  }

  get room(): string | null {
    return this.seat?.room ?? null;
  }

  handle(data: string): void {
    if (!this.takeToken()) {
      const id = frameId(data);
      this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code: 'rate_limited', message: 'too many messages; slow down' });
      this.strike('rate limit');
      return;
    }
    const parsed = parseClientFrame(data);
    if (!parsed.ok) {
      this.send({ type: 'error', ...(parsed.id !== undefined ? { id: parsed.id } : {}), code: 'bad_request', message: parsed.message });
      this.strike('bad requests');
      return;
    }
    void this.dispatch(parsed.message, parsed.id).catch((error) => {
      this.log.error({ err: (error as Error).message, stack: (error as Error).stack }, 'command failed');
      this.error(parsed.id, 'unavailable', 'internal error; try again');
    });
  }

  private async dispatch(message: ClientMessage, id: string | undefined): Promise<void> {
    const commandId = id ?? null;
    switch (message.type) {
      case 'create_room':
      case 'join_room':
        return this.takeSeat(message, id);
      case 'resume':
        return this.seatWith(await this.runtime.resume(message.token), id);
    }
    const seat = this.seat;
    if (!seat) return this.error(id, 'unauthorized', 'create, join or resume a room first');
    const command = toRoomCommand(message);
    if (message.type === 'leave') this.leaving = seat;
    await this.runtime.command(seat.room, seat.playerId, commandId, command, (outcome: Outcome) => {
      if (!outcome.ok) {
        if (message.type === 'leave' && this.leaving === seat) this.leaving = null;
        return this.error(id, outcome.code, outcome.message);
      }
      this.send({ type: 'ack', ...(id !== undefined ? { id } : {}), seq: outcome.seq });
      if (message.type === 'leave') this.unseat();
    });
  }

  /**
   * create_room and join_room. With an id, a retry of the same command on this connection (after
   * a client-side timeout, say) is answered with the seat the first attempt took, not a new one.
   */
  private async takeSeat(message: Extract<ClientMessage, { type: 'create_room' | 'join_room' }>, id: string | undefined): Promise<void> {
    const attempt = () => (message.type === 'create_room' ? this.runtime.createRoom(message.name, message.options ?? {}) : this.runtime.joinRoom(message.room, message.name));
    if (id === undefined) return this.seatWith(await attempt(), id);
    const fingerprint = JSON.stringify(message);
    const earlier = this.retries.earlier(id, fingerprint);
    if (!earlier) {
      const outcome = attempt();
      this.retries.remember(id, fingerprint, outcome);
      return this.seatWith(await outcome, id);
    }
    const result = await earlier;
    if (!result.ok) return this.error(id, result.code, result.message);
    const seat = this.seat;
    if (!seat || seat.room !== result.room || seat.playerId !== result.player_id) return this.seatWith(result, id);
    // The same seat, welcomed again with its latest view (the room may have moved on since).
    const latest = this.latestFrame ? (JSON.parse(this.latestFrame) as { seq: number; state: GameView }) : { seq: result.seq, state: result.view };
    this.send({ type: 'welcome', room: result.room, player_id: result.player_id, token: result.token, seq: latest.seq, state: latest.state });
    this.send({ type: 'ack', id, seq: result.seq });
  }

  private seatWith(result: Seat | Failure, id: string | undefined): void {
    if (!result.ok) return this.error(id, result.code, result.message);
    this.unseat();
    if (this.closed) return;
    const seat = { room: result.room, playerId: result.player_id };
    this.seat = seat;
    this.send({ type: 'welcome', room: result.room, player_id: result.player_id, token: result.token, seq: result.seq, state: result.view });
    if (id !== undefined) this.send({ type: 'ack', id, seq: result.seq });
    // A game that is over and hosted nowhere changes no more: there is nothing to follow.
    if (!result.ended) void this.follow(seat);
  }

  /** Watches the seat's room (here or on its node), retrying for a while if it is moving. */
  private async follow(seat: { room: string; playerId: string }): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (this.seat !== seat || this.closed || !this.runtime.isAccepting) return;
      if ((await this.runtime.watch(seat.room, this)) !== 'unreachable') return;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (this.seat === seat && !this.closed) this.send({ type: 'reconnect', reason: 'the room could not be reached; resume to continue' });
  }

  private unseat(): void {
    if (!this.seat) return;
    const room = this.seat.room;
    this.seat = null;
    this.latestFrame = null;
    this.leaving = null;
    this.runtime.unwatch(room, this);
  }

  /** RoomListener: this player's view after a change (a serialised `state` frame). */
  state(_seq: number, frame: string): void {
    this.latestFrame = frame;
    if (!this.writable()) return;
    if (this.pendingState !== null || this.ws.bufferedAmount > this.limits.slowBytes) {
      // A slow reader gets the latest state when it catches up, not every intermediate one.
      this.pendingState = frame;
      this.flushTimer ??= setInterval(() => this.flushPending(), 50);
      return;
    }
    this.ws.send(frame);
  }

  /** RoomListener: the room left where it was; find it again (here, or on another node). */
  evicted(reason: string): void {
    const seat = this.seat;
    if (!seat || this.closed || !this.runtime.isAccepting) return;
    this.log.debug({ room: seat.room, reason }, 'room moved; following it');
    void this.follow(seat);
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
    if (!leavingHere) this.send({ type: 'error', code: 'unauthorized', message: `${reason}: you have no seat here now` });
  }

  /** Tells the client to reconnect elsewhere, then closes with 1012 (service restart). */
  goAway(reason: string): void {
    this.send({ type: 'reconnect', reason });
    this.ws.close(1012, 'server restarting');
  }

  onClose(): void {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.unseat();
  }

  private error(id: string | undefined, code: ErrorCode, message: string): void {
    this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code, message });
  }

  /** Replies and notices: never dropped (they are small and each one matters). */
  send(message: ServerMessage): void {
    if (this.writable()) this.ws.send(JSON.stringify(message));
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
    const pending = this.pendingState;
    this.pendingState = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (pending !== null) this.ws.send(pending);
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
    if (this.strikes.length > this.limits.strikes) {
      this.log.info({ why }, 'closing an abusive client (1008)');
      this.ws.close(1008, why);
    }
  }
}

function toRoomCommand(message: Exclude<ClientMessage, { type: 'create_room' | 'join_room' | 'resume' }>): RoomCommand {
  switch (message.type) {
    case 'add_cpu':
      return { type: 'add_cpu', profile: message.profile ?? null, new_player_id: newPlayerId('cpu') };
    default:
      return message as RoomCommand;
  }
}
