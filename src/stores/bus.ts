import type { Redis } from 'ioredis';

/** Messages between nodes (routing commands to a room's owner, views back, moves). */
export interface Bus {
  /** Handles what is sent to this node, and what is broadcast to every node. */
  onMessage(handler: (message: unknown) => void): void;
  /**
   * Called after the subscription came back from a broken connection (and is in place again):
   * whatever was sent to this node meanwhile is lost (pub/sub keeps nothing), so the node
   * asks again for what it follows.
   */
  onResubscribed(handler: () => void): void;
  /**
   * Sends to one node's inbox; resolves with how many subscribers got it (Redis's PUBLISH
   * count): 0 means nobody heard it (the node is gone, or its subscription is being restored
   * after a Redis restart), so a reply will never come.
   */
  send(nodeId: string, message: unknown): Promise<number>;
  /**
   * The nodes whose inbox is subscribed right now (one round trip): a node whose process died
   * loses its subscription the moment its connection closes. Null when this cannot be known.
   */
  listening(): Promise<Set<string> | null>;
  /**
   * Of these nodes, those with any connection to Redis open right now (one round trip; see
   * nodeConnectionName), or null when this cannot be known: a node's subscription that vanished
   * with its other connections still there is a connection that broke, not a process that died.
   */
  connected?(nodeIds: readonly string[]): Promise<Set<string> | null>;
  /**
   * Counts the breaks of this node's own connections to the bus: a Redis that restarted drops
   * every subscription at once, this node's too, so a look taken across a break says nothing
   * about peers.
   */
  readonly breaks: number;
  /** Whether this node's subscription is up right now (it hears its inbox and the broadcasts). */
  readonly hearing: boolean;
  /** Since when (Date.now()) it has not been hearing; null while it hears. */
  readonly deafSince: number | null;
  broadcast(message: unknown): Promise<void>;
  close(): Promise<void>;
}

/** The name a node's Redis connections carry (CLIENT SETNAME), so that peers can tell whether any is left. */
export function nodeConnectionName(prefix: string, nodeId: string): string {
  return `golf-node:${prefix}${encodeURIComponent(nodeId)}`;
}

/**
 * Redis pub/sub: one inbox channel per node and one broadcast channel. The subscriber has a
 * connection of its own (a subscribed connection can do nothing else).
 */
export class RedisBus implements Bus {
  private handler: (message: unknown) => void = () => {};
  private resubscribed: () => void = () => {};
  breaks = 0;
  hearing = false;
  deafSince: number | null = null;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {}

  static async open(publisher: Redis, prefix: string, nodeId: string): Promise<RedisBus> {
    const subscriber = publisher.duplicate({ lazyConnect: true, enableAutoPipelining: false });
    subscriber.on('error', () => {});
    await subscriber.connect();
    const bus = new RedisBus(publisher, subscriber, prefix);
    subscriber.on('close', () => {
      bus.breaks++;
      bus.hearing = false;
      bus.deafSince ??= Date.now();
    });
    publisher.on('close', () => bus.breaks++);
    subscriber.on('message', (_channel, text: string) => {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      bus.handler(message);
    });
    await subscriber.subscribe(bus.inbox(nodeId), bus.everyone());
    bus.hearing = true;
    await bus.watchHeartbeats(publisher, subscriber);
    // From here on, every 'ready' is a reconnection (the first one is behind us). ioredis
    // subscribes again on its own right after 'ready'; subscribing once more (a no-op for
    // Redis) tells us when that is done, so that what we then ask for is heard.
    subscriber.on('ready', () => {
      subscriber
        .subscribe(bus.inbox(nodeId), bus.everyone())
        .then(() => {
          bus.hearing = true;
          bus.deafSince = null;
          bus.resubscribed();
        })
        .catch(() => undefined); // broken again: the next 'ready' tries again
    });
    return bus;
  }

  /**
   * A hint, not a guarantee: when a node's heartbeat key expires, Redis can say so (keyspace
   * notifications), and peers adopt its rooms at once instead of at their next scan. Managed
   * Redis may refuse CONFIG SET; the periodic scan is the safety net either way.
   */
  private async watchHeartbeats(publisher: Redis, subscriber: Redis): Promise<void> {
    await publisher.config('SET', 'notify-keyspace-events', 'Ex').catch(() => undefined);
    const nodeKey = `${this.prefix}node:`;
    subscriber.on('pmessage', (_pattern, _channel, key: string) => {
      if (key.startsWith(nodeKey)) this.handler({ kind: 'node_gone', node: key.slice(nodeKey.length) });
    });
    await subscriber.psubscribe('__keyevent@*__:expired');
  }

  private inbox(nodeId: string): string {
    return `${this.prefix}bus:node:${nodeId}`;
  }

  private everyone(): string {
    return `${this.prefix}bus:all`;
  }

  onMessage(handler: (message: unknown) => void): void {
    this.handler = handler;
  }

  onResubscribed(handler: () => void): void {
    this.resubscribed = handler;
  }

  async send(nodeId: string, message: unknown): Promise<number> {
    return await this.publisher.publish(this.inbox(nodeId), JSON.stringify(message));
  }

  async listening(): Promise<Set<string> | null> {
    const inbox = this.inbox('');
    // The prefix holds no glob characters (config.ts: letters, digits, _ - . :).
    const channels = (await this.publisher.pubsub('CHANNELS', `${inbox}*`)) as string[];
    return new Set(channels.map((channel) => channel.slice(inbox.length)));
  }

  async broadcast(message: unknown): Promise<void> {
    await this.publisher.publish(this.everyone(), JSON.stringify(message));
  }

  async connected(nodeIds: readonly string[]): Promise<Set<string> | null> {
    let list: string;
    try {
      list = String(await this.publisher.client('LIST'));
    } catch {
      // CLIENT may be refused (renamed or disabled on managed Redis): nobody can say.
      return null;
    }
    const names = new Set(list.split('\n').map((line) => / name=(\S*)/.exec(line)?.[1] ?? ''));
    return new Set(nodeIds.filter((id) => names.has(nodeConnectionName(this.prefix, id))));
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

/** A node alone has nobody to talk to: every room is local. */
export class LocalBus implements Bus {
  readonly breaks = 0;
  readonly hearing = true;
  readonly deafSince = null;
  onMessage(): void {}
  async listening(): Promise<Set<string> | null> {
    return null;
  }
  onResubscribed(): void {}
  async send(): Promise<number> {
    return 0;
  }
  async broadcast(): Promise<void> {}
  async close(): Promise<void> {}
}
