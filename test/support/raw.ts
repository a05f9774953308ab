/** Clients that do what the protocol clients never do: refused upgrades, raw HTTP bytes. */
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';

export type Attempt = { ws: WebSocket; status?: undefined; headers?: undefined } | { ws?: undefined; status: number; headers: IncomingHttpHeaders };

/** Opens /ws with these headers: the socket, or the HTTP status of the refusal (-1: no answer). */
export function tryUpgrade(port: number, headers: Record<string, string> = {}, path = '/ws'): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (req, res) => {
      resolve({ status: res.statusCode ?? -1, headers: res.headers });
      res.resume();
      req.destroy();
    });
    ws.once('error', () => resolve({ status: -1, headers: {} }));
  });
}

/** Writes `text` to a fresh TCP connection and collects what comes back until the server closes. */
export function rawHttp(port: number, text: string, timeoutMs = 5000): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closed: false });
    }, timeoutMs);
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closed: true });
    });
    socket.write(text);
  });
}

/** Waits until `test` holds (polling), or throws after `timeoutMs`. */
export async function until(test: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
