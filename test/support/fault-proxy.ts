/**
 * A TCP fault proxy to put between a node and Redis or PostgreSQL, for fault tests: it forwards
 * bytes both ways, and on demand adds latency, holds traffic (a partition or a stall: bytes wait,
 * as TCP would retransmit them, and flow again on heal), or cuts the link (every connection
 * reset, new ones refused until healed).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

type Mode = 'open' | 'held' | 'cut';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Bytes waiting while held, per direction, in order. */
  held: Array<{ to: Socket; chunk: Buffer }>;
}

export class FaultProxy {
  private mode: Mode = 'open';
  private latencyMs = 0;
  private readonly links = new Set<Link>();
  /** When the last chunk scheduled to each socket goes out: later chunks never overtake it. */
  private readonly due = new WeakMap<Socket, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    proxy = new FaultProxy(server, (server.address() as { port: number }).port, targetPort);
    return proxy;
  }

  /** `redis://` or `postgres://` URL through the proxy, from a URL of the target. */
  url(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  get connections(): number {
    return this.links.size;
  }

  /** Adds this much latency to every chunk, both ways (0 removes it). */
  delay(ms: number): void {
    this.latencyMs = ms;
  }

  /** Holds every byte both ways, on every connection, until `heal` (a partition, a stall). */
  hold(): void {
    if (this.mode === 'open') this.mode = 'held';
  }

  /** Resets every connection and refuses new ones until `heal` (the far end is gone). */
  cut(): void {
    this.mode = 'cut';
    for (const link of this.links) this.drop(link);
  }

  /** Back to forwarding; held bytes flow on, in order. */
  heal(): void {
    this.mode = 'open';
    for (const link of this.links) {
      for (const { to, chunk } of link.held.splice(0)) this.forward(to, chunk);
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) this.drop(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetHost: string): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, targetHost);
    const link: Link = { client, upstream, held: [] };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const relay = (to: Socket) => (chunk: Buffer) => {
      if (this.mode === 'cut') return;
      if (this.mode === 'held') link.held.push({ to, chunk });
      else this.forward(to, chunk);
    };
    client.on('data', relay(upstream));
    upstream.on('data', relay(client));
    const end = () => this.drop(link);
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  private forward(to: Socket, chunk: Buffer): void {
    const now = Date.now();
    const at = Math.max(now + this.latencyMs, this.due.get(to) ?? 0);
    if (at <= now) {
      if (!to.destroyed) to.write(chunk);
      return;
    }
    this.due.set(to, at);
    // Timers due at the same time fire in the order they were set, so bytes stay in order.
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - now);
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.held.length = 0;
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (!link.upstream.destroyed) link.upstream.resetAndDestroy();
  }
}
