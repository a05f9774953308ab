import { randomBytes } from 'node:crypto';
import type { RoomCommand } from '../../actors/room-machine.js';
import type { GameView } from '../game/view.js';
import type { Logger } from '../log.js';
import type { Bus } from '../stores/bus.js';
import type { Outcome, RoomListener } from './room-actor.js';

/**
 * What a node asks of a room's owner. Nothing here is a secret: a resume carries the seat and
 * the sha256 of its token (what the room stores), never the token, so that whoever reads the
 * bus (or its logs) cannot take a seat.
 */
export type RemoteRequest =
  | { type: 'command'; player_id: string; command_id: string | null; command: RoomCommand; want_view: boolean }
  | { type: 'resume'; player_id: string; token_hash: string }
  | { type: 'attach'; player_id: string }
  | { type: 'detach'; player_id: string };

export type RemoteReply = Outcome & { view?: GameView };

export type BusMessage =
  | { kind: 'request'; from: string; id: string; room: string; request: RemoteRequest }
  | { kind: 'reply'; id: string; reply: RemoteReply }
  | { kind: 'state'; room: string; player_id: string; seq: number; frame: string }
  | { kind: 'moved'; room: string; reason: string }
  /** A player left or was removed: their watchers on the receiving node lose the seat. */
  | { kind: 'unseated'; room: string; player_id: string; reason: string }
  | { kind: 'node_gone'; node: string }
  /** A node (re)started: whatever other nodes believed attached there is gone. */
  | { kind: 'node_started'; node: string };

interface Watched {
  owner: string;
  players: Map<string, Set<RoomListener>>;
}

/**
 * The gateway's side of rooms hosted on other nodes: requests to their owner (with a timeout:
 * commands carry ids, so a retry after a timeout is applied at most once), and the views the
 * owner sends back for the players connected here.
 */
export class RemoteRooms {
  private readonly pending = new Map<string, { resolve: (reply: RemoteReply) => void; timer: NodeJS.Timeout }>();
  private readonly watched = new Map<string, Watched>();
  private counter = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  constructor(
    private readonly bus: Bus,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  request(owner: string, room: string, request: RemoteRequest): Promise<RemoteReply> {
    const id = `${this.prefix}-${++this.counter}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // The owner may still apply a command (it answers within its own, shorter bound unless
        // it is stalled or cut off): not "nothing changed" but unknown; a retry by id is safe.
        resolve(
          request.type === 'command'
            ? {
                ok: false,
                code: 'unavailable',
                message: 'the room’s server did not answer in time, so whether your command was applied is unknown; retrying with the same id is safe (it is applied at most once)',
                in_doubt: true,
              }
            : { ok: false, code: 'unavailable', message: 'the room’s server did not answer; try again' },
        );
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, timer });
      const message: BusMessage = { kind: 'request', from: this.nodeId, id, room, request };
      this.bus.send(owner, message).catch((error) => {
        clearTimeout(timer);
        this.pending.delete(id);
        this.log.warn({ err: (error as Error).message }, 'bus send failed');
        resolve({ ok: false, code: 'unavailable', message: 'cannot reach the room’s server; try again' });
      });
    });
  }

  /** Watches a seat of a room hosted elsewhere; the first watcher of a seat attaches it there. */
  async watch(owner: string, room: string, listener: RoomListener): Promise<boolean> {
    let entry = this.watched.get(room);
    if (entry && entry.owner !== owner) {
      this.evictRoom(room, 'the room moved');
      entry = undefined;
    }
    if (!entry) this.watched.set(room, (entry = { owner, players: new Map() }));
    let set = entry.players.get(listener.playerId);
    const first = !set;
    if (!set) entry.players.set(listener.playerId, (set = new Set()));
    set.add(listener);
    if (!first) return true;
    const reply = await this.request(owner, room, { type: 'attach', player_id: listener.playerId });
    if (!reply.ok) {
      set.delete(listener);
      if (set.size === 0) entry.players.delete(listener.playerId);
      return false;
    }
    return true;
  }

  unwatch(room: string, listener: RoomListener): void {
    const entry = this.watched.get(room);
    for (const [playerId, set] of entry?.players ?? []) {
      if (!set.delete(listener)) continue;
      if (set.size === 0) {
        entry!.players.delete(playerId);
        void this.request(entry!.owner, room, { type: 'detach', player_id: playerId });
      }
      if (entry!.players.size === 0) this.watched.delete(room);
      return;
    }
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
    for (const set of entry.players.values()) for (const listener of set) listener.evicted(reason);
  }

  deliver(message: BusMessage): void {
    switch (message.kind) {
      case 'reply': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        clearTimeout(pending.timer);
        this.pending.delete(message.id);
        pending.resolve(message.reply);
        return;
      }
      case 'state':
        for (const listener of this.watched.get(message.room)?.players.get(message.player_id) ?? []) listener.state(message.seq, message.frame);
        return;
      case 'moved':
        this.evictRoom(message.room, message.reason);
        return;
      case 'unseated': {
        // The owner has already dropped this seat's watchers: nothing to detach there.
        const entry = this.watched.get(message.room);
        const set = entry?.players.get(message.player_id);
        if (!entry || !set) return;
        entry.players.delete(message.player_id);
        if (entry.players.size === 0) this.watched.delete(message.room);
        for (const listener of set) listener.unseated(message.reason);
        return;
      }
    }
  }
}
