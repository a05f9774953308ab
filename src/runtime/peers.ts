import type { Placement } from './placement.js';
import { endedCommand } from './ended-games.js';
import type { BusMessage, RemoteReply, RemoteRooms } from './remote.js';
import type { RoomListener } from './room-actor.js';
import { fail, type RuntimeDeps } from './types.js';

/**
 * The node among its peers: serves their requests for the rooms hosted here (commands, resumes,
 * watchers on their nodes), hears their arrivals and departures, and sends the watchers here
 * after rooms that moved. (The asking side is remote.ts.)
 */
export class Peers {
  /** Watchers on other nodes of rooms hosted here, by room|player|node. */
  private readonly remoteListeners = new Map<string, RoomListener>();

  constructor(
    private readonly placement: Placement,
    private readonly remote: RemoteRooms,
    private readonly deps: RuntimeDeps,
    /** A peer left (it said so, or Redis saw its heartbeat expire): look for its rooms now. */
    private readonly onNodeGone: (node: string) => void,
  ) {
    deps.backends.bus.onMessage((message) => this.onBus(message as BusMessage));
  }

  /**
   * Tells peers this node (re)started: a node restarted under the same NODE_ID has none of the
   * watchers its previous life had, so peers watching its rooms attach again.
   */
  async announceStart(): Promise<void> {
    await this.deps.backends.bus.broadcast({ kind: 'node_started', node: this.deps.options.nodeId } satisfies BusMessage);
  }

  /** Tells peers this node is gone (drained), so they adopt its rooms at once. */
  async announceGone(): Promise<void> {
    await this.deps.backends.bus.broadcast({ kind: 'node_gone', node: this.deps.options.nodeId } satisfies BusMessage);
  }

  /** Watched rooms whose owner died or changed: their watchers here find them again. */
  async checkRemoteOwners(): Promise<void> {
    for (const { room, owner } of this.remote.rooms()) {
      const current = await this.placement.liveOwner(room);
      if (current !== owner) this.remote.evictRoom(room, 'the room’s server is gone');
    }
  }

  private onBus(message: BusMessage): void {
    const { log, options } = this.deps;
    switch (message.kind) {
      case 'request':
        void this.serve(message).catch((error) => log.warn({ err: (error as Error).message }, 'serving a peer failed'));
        return;
      case 'node_started':
        if (message.node !== options.nodeId) this.remote.evictOwner(message.node, 'its server restarted');
        return;
      case 'node_gone':
        if (message.node === options.nodeId) return;
        this.remote.evictOwner(message.node, 'its server is gone');
        this.onNodeGone(message.node);
        return;
      default:
        this.remote.deliver(message);
    }
  }

  /** A peer's request for a room this node hosts (or should: its cache entry names this node). */
  private async serve(message: Extract<BusMessage, { kind: 'request' }>): Promise<void> {
    const { bus } = this.deps.backends;
    const answer = (reply: RemoteReply) => {
      const out: BusMessage = { kind: 'reply', id: message.id, reply };
      void bus.send(message.from, out).catch(() => undefined);
    };
    const found = await this.placement.resolve(message.room);
    if ('ok' in found) return answer(found);
    const request = message.request;
    if ('ended' in found) {
      // Over, and no longer hosted here: only its standings can still be asked for.
      if (request.type === 'resume') return answer(await this.placement.ended.resume(found.ended, request));
      return answer(request.type === 'command' ? endedCommand(found.ended, request.command) : fail('unknown_room', 'the game is over'));
    }
    const actor = found.local;
    const key = `${message.room}|${'player_id' in request ? request.player_id : ''}|${message.from}`;
    switch (request.type) {
      case 'command':
        return void this.placement.localCommand(actor, request.player_id, request.command_id, request.command, request.want_view).then(answer);
      case 'resume':
        return answer(this.placement.localResume(actor, request));
      case 'attach': {
        if (!this.remoteListeners.has(key)) {
          const from = message.from;
          const room = message.room;
          const listener: RoomListener = {
            playerId: request.player_id,
            state: (seq, frame) => void bus.send(from, { kind: 'state', room, player_id: request.player_id, seq, frame } satisfies BusMessage).catch(() => undefined),
            evicted: (reason) => {
              this.remoteListeners.delete(key);
              void bus.send(from, { kind: 'moved', room, reason } satisfies BusMessage).catch(() => undefined);
            },
            unseated: (reason) => {
              this.remoteListeners.delete(key);
              void bus.send(from, { kind: 'unseated', room, player_id: request.player_id, reason } satisfies BusMessage).catch(() => undefined);
            },
          };
          this.remoteListeners.set(key, listener);
          actor.attach(listener);
        }
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      }
      case 'detach': {
        const listener = this.remoteListeners.get(key);
        if (listener) {
          this.remoteListeners.delete(key);
          actor.detach(listener);
        }
        return answer({ ok: true, seq: actor.seq, duplicate: false });
      }
    }
  }
}
