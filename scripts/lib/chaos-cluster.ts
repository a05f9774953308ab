/**
 * The cluster of a chaos run and the faults it can suffer: node processes on a throwaway Redis
 * and PostgreSQL (restarted at will), each node reaching them through its own fault proxies
 * (so one node's links can be delayed, held or cut), and a front proxy spreading players over
 * the live nodes.
 */
import { Redis } from 'ioredis';
import { FaultProxy } from '../../test/support/fault-proxy.js';
import { freePort, ThrowawayPostgres, ThrowawayRedis } from '../../test/support/throwaway.js';
import { spawnNode, type NodeProcess } from './node-process.js';
import { frontProxy } from './proxy.js';

export type FaultKind =
  | 'sigkill'
  | 'sigterm'
  | 'sigstop'
  | 'gateway-kill'
  | 'redis-restart'
  | 'postgres-restart'
  | 'redis-link-cut'
  | 'redis-link-hold'
  | 'postgres-link-hold'
  | 'link-delay';

export const FAULT_KINDS: FaultKind[] = [
  'sigkill', 'sigterm', 'sigstop', 'gateway-kill', 'redis-restart', 'postgres-restart', 'redis-link-cut', 'redis-link-hold', 'postgres-link-hold', 'link-delay',
];

interface Slot {
  port: number;
  env: Record<string, string>;
  node: NodeProcess | null;
  redisLink: FaultProxy;
  pgLink: FaultProxy;
  /** Set while we stop it on purpose (an exit then is no crash). */
  stopping: boolean;
}

export interface Fault {
  kind: FaultKind;
  /** The node it hit, if it hit one. */
  node: number | null;
  at: number;
  /** When the fault was lifted (the node restarted or woken, the store or link back). */
  endedAt: number;
  /** Rooms it affected: the rooms the node owned, or every room for a store fault. */
  rooms: string[];
}

export class ChaosCluster {
  readonly slots: Slot[] = [];
  /** Node exits nobody asked for. */
  crashes: Array<{ node: number; code: number | null; logs: string[] }> = [];
  private frontPort = 0;
  private closeFront: (() => void) | null = null;
  private readonly redisAdmin: Redis;

  private constructor(
    readonly redis: ThrowawayRedis,
    readonly postgres: ThrowawayPostgres,
    private readonly name: string,
  ) {
    this.redisAdmin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    this.redisAdmin.on('error', () => {});
  }

  static async start(nodes: number, name: string, extraEnv: Record<string, string>): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(await ThrowawayRedis.start(), await ThrowawayPostgres.start(), name);
    for (let i = 0; i < nodes; i++) {
      const redisLink = await FaultProxy.start(cluster.redis.port);
      const pgLink = await FaultProxy.start(cluster.postgres.port);
      const port = await freePort();
      const env = {
        PORT: String(port),
        NODE_ID: `chaos-node-${i}`,
        REDIS_URL: redisLink.url(cluster.redis.url),
        DATABASE_URL: pgLink.url(cluster.postgres.url),
        DATABASE_SCHEMA: name,
        REDIS_PREFIX: `${name}:`,
        LOG_LEVEL: 'warn',
        METRICS_PORT: '0',
        // Every bot comes from 127.0.0.1 through the front proxy.
        MAX_CONNECTIONS_PER_IP: '100000', ROOM_RATE_PER_MINUTE: '1000000', ROOM_RATE_BURST: '100000', GUESS_LIMIT: '100000',
        RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '1000', SEAT_RATE_PER_SECOND: '1000', SEAT_RATE_BURST: '1000',
        ...extraEnv,
      };
      cluster.slots.push({ port, env, node: null, redisLink, pgLink, stopping: false });
    }
    for (let i = 0; i < nodes; i++) await cluster.startNode(i);
    let turn = 0;
    // New connections go round the live nodes, so a room's players sit on different nodes; not
    // to one being stopped: a draining node refuses new sockets (503), and the deployment's nginx
    // (deploy/nginx.conf: proxy_next_upstream http_503) sends them on to another node at once,
    // as Kubernetes' readiness does, while this TCP proxy would hand the refusal to the client.
    const front = await frontProxy(() => {
      const alive = cluster.slots.filter((s) => s.node !== null && !s.stopping).map((s) => s.port);
      turn++;
      return alive.map((_, k) => alive[(k + turn) % alive.length]!);
    });
    cluster.frontPort = front.port;
    cluster.closeFront = front.close;
    return cluster;
  }

  get port(): number {
    return this.frontPort;
  }

  async startNode(i: number): Promise<void> {
    const slot = this.slots[i]!;
    slot.stopping = false;
    const node = await spawnNode(slot.env);
    slot.node = node;
    void node.exited.then((code) => {
      if (!slot.stopping && slot.node === node) {
        this.crashes.push({ node: i, code, logs: node.logs.slice(-30) });
        slot.node = null;
      }
    });
  }

  /** Room code -> owning node index, as the room index in Redis says (best effort). */
  async owners(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      const keys = await this.redisAdmin.keys(`${this.name}:room:????`);
      const pipeline = this.redisAdmin.pipeline();
      for (const key of keys) pipeline.hget(key, 'server_id');
      const results = (await pipeline.exec()) ?? [];
      keys.forEach((key, k) => {
        const owner = results[k]?.[1] as string | null;
        const index = owner ? this.slots.findIndex((s) => s.env.NODE_ID === owner) : -1;
        if (index >= 0) out.set(key.slice(-4), index);
      });
    } catch {
      // Redis is down right now: nobody can say.
    }
    return out;
  }

  /** Injects one fault and lifts it; resolves when the fault is over. */
  async inject(kind: FaultKind, pick: (n: number) => number, rooms: string[]): Promise<Fault> {
    const owners = await this.owners();
    const roomsOf = (i: number) => rooms.filter((r) => owners.get(r) === i);
    const alive = this.slots.map((s, i) => (s.node ? i : -1)).filter((i) => i >= 0);
    const anyNode = alive[pick(alive.length)] ?? 0;
    const at = Date.now();
    const fault = (node: number | null, affected: string[]): Fault => ({ kind, node, at, endedAt: Date.now(), rooms: affected });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    switch (kind) {
      case 'sigkill':
      case 'sigterm': {
        const affected = roomsOf(anyNode);
        await this.stopNode(anyNode, kind === 'sigkill' ? 'SIGKILL' : 'SIGTERM');
        await sleep(300);
        await this.startNode(anyNode);
        return fault(anyNode, affected);
      }
      case 'gateway-kill': {
        // The node that owns the fewest rooms: mostly it only holds players' sockets.
        const victim = alive.slice().sort((a, b) => roomsOf(a).length - roomsOf(b).length)[0] ?? anyNode;
        const affected = rooms.filter((r) => owners.get(r) !== victim);
        await this.stopNode(victim, 'SIGKILL');
        await sleep(300);
        await this.startNode(victim);
        return fault(victim, affected);
      }
      case 'sigstop': {
        const node = this.slots[anyNode]!.node!;
        const affected = roomsOf(anyNode);
        node.child.kill('SIGSTOP');
        await sleep(2000 + pick(4000));
        node.child.kill('SIGCONT');
        return fault(anyNode, affected);
      }
      case 'redis-restart':
        this.redis.stop();
        await sleep(500 + pick(1000));
        await this.redis.startServer();
        return fault(null, rooms);
      case 'postgres-restart':
        this.postgres.stop();
        await sleep(500 + pick(1000));
        await this.postgres.startServerAsync();
        return fault(null, rooms);
      case 'redis-link-cut': {
        const slot = this.slots[anyNode]!;
        slot.redisLink.cut();
        await sleep(1000 + pick(2000));
        slot.redisLink.heal();
        return fault(anyNode, roomsOf(anyNode));
      }
      case 'redis-link-hold':
      case 'postgres-link-hold': {
        const slot = this.slots[anyNode]!;
        const link = kind === 'redis-link-hold' ? slot.redisLink : slot.pgLink;
        link.hold();
        await sleep(2000 + pick(3000));
        link.heal();
        return fault(anyNode, roomsOf(anyNode));
      }
      case 'link-delay': {
        const slot = this.slots[anyNode]!;
        const ms = 50 + pick(250);
        slot.redisLink.delay(ms);
        slot.pgLink.delay(ms);
        await sleep(3000);
        slot.redisLink.delay(0);
        slot.pgLink.delay(0);
        return fault(anyNode, roomsOf(anyNode));
      }
    }
  }

  private async stopNode(i: number, signal: NodeJS.Signals): Promise<void> {
    const slot = this.slots[i]!;
    const node = slot.node;
    if (!node) return;
    slot.stopping = true;
    node.child.kill(signal);
    await node.exited;
    slot.node = null;
  }

  async close(): Promise<void> {
    this.closeFront?.();
    for (let i = 0; i < this.slots.length; i++) await this.stopNode(i, 'SIGTERM').catch(() => undefined);
    for (const slot of this.slots) {
      await slot.redisLink.close();
      await slot.pgLink.close();
    }
    this.redisAdmin.disconnect();
    this.redis.stop();
    this.postgres.destroy();
  }
}
