/**
 * Who a room sends its views to, and how a view reaches one: shared by the room's seats
 * (room-actor.ts) and its spectators (spectators.ts).
 */
import type { ViewUpdate } from './view-fanout.js';

/**
 * Someone on this node watching a seat of the room (a WebSocket session), or, with a null
 * `playerId`, watching without a seat (a spectator: the public view).
 */
export interface RoomListener {
  readonly playerId: string | null;
  /**
   * How many spectators this listener stands for: a peer node's one listener carries all the
   * spectators of the room connected there (absent: one). Only for a null `playerId`.
   */
  readonly spectators?: number;
  /**
   * The seat's view after a change, with the patch from the view before (see view-fanout.ts).
   * A listener without it (a peer node's stand-in) gets `state` instead.
   */
  view?(update: ViewUpdate): void;
  /** The seat's `state` frame after a change, serialised (`{ type: 'state', seq, state }`). */
  state(seq: number, frame: string): void;
  /** The room left this node (drained, fenced, passivated): resolve it again. */
  evicted(reason: string): void;
  /** The seat is gone (the player left, on any connection, or was removed): no more views. */
  unseated(reason: string): void;
}

/** Each change's `state` frame for listeners that take frames, not updates: built once per view. */
const stateFrameOf = new WeakMap<ViewUpdate, string>();

/** A view to a listener: as an update if it takes them, else as a `state` frame. */
export function deliver(listener: RoomListener, update: ViewUpdate): void {
  if (listener.view) return listener.view(update);
  let frame = stateFrameOf.get(update);
  if (frame === undefined) stateFrameOf.set(update, (frame = `{"type":"state","seq":${update.seq},"state":${update.state}}`));
  listener.state(update.seq, frame);
}
