/**
 * A stand-in for the load balancer of compose.yaml: a TCP proxy that sends each new
 * connection to the first backend that accepts it (in order), so that when a node dies the
 * page's next connection lands on another.
 */
export async function frontProxy(backends: () => number[]): Promise<{ port: number; close(): void }> {
  const { createServer, connect } = await import('node:net');
  const server = createServer((client) => {
    const ports = backends();
    const tryNext = (i: number): void => {
      if (i >= ports.length) {
        client.destroy();
        return;
      }
      const upstream = connect(ports[i]!, '127.0.0.1');
      upstream.once('connect', () => {
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      upstream.once('error', () => tryNext(i + 1));
    };
    // Hold what the client sends until an upstream is connected (pipe resumes it).
    client.pause();
    tryNext(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
