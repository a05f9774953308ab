/**
 * The benchmark bot's sockets against a real `ws` server whose upgrades the test holds: no
 * socket may stay open after stop(), nor two be the player's at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { ChaosBot } from '../../scripts/lib/chaos-bot.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(5)) if (Date.now() > end) throw new Error('timed out');
}

let http: Server;
let wss: WebSocketServer;
let bot: ChaosBot | null = null;
/** Upgrades waiting for the test to let them through. */
let held: Array<{ req: IncomingMessage; socket: Duplex; head: Buffer }> = [];
const sockets: ServerSocket[] = [];

async function serve(): Promise<number> {
  held = [];
  sockets.length = 0;
  http = createServer();
  wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    held.push({ req, socket, head });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return (http.address() as { port: number }).port;
}

/** Lets the held upgrades through; each server socket answers a resume with a welcome. */
function admit(count = held.length): ServerSocket[] {
  const admitted: ServerSocket[] = [];
  for (const { req, socket, head } of held.splice(0, count)) {
    if (socket.destroyed) continue;
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      admitted.push(ws);
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'resume') ws.send(JSON.stringify({ type: 'welcome', id: f.id, token: 'T', room: 'ABCD', seq: 3, state: { game_id: 'g', phase: 'lobby', players: [] } }));
      });
    });
  }
  return admitted;
}

const open = () => sockets.filter((s) => s.readyState === s.OPEN).length;

afterEach(async () => {
  bot?.stop();
  bot = null;
  for (const s of sockets) s.terminate();
  for (const { socket } of held) socket.destroy();
  await new Promise((r) => wss.close(r));
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
});

describe('the chaos bot', () => {
  it('stopped while its socket is still opening, leaves no socket open', async () => {
    const port = await serve();
    bot = new ChaosBot(() => port, 0, 10);
    void bot.connect();
    await until(() => held.length === 1);
    bot.stop();
    admit();
    await sleep(200);
    expect(bot.ws?.readyState ?? null).not.toBe(1);
    expect(open()).toBe(0);
  });

  it('never keeps two sockets: an overlap socket welcomed while it reconnects is the only one kept', async () => {
    const port = await serve();
    bot = new ChaosBot(() => port, 0, 10);
    void bot.connect();
    await until(() => held.length === 1);
    const [first] = admit();
    await until(() => bot!.ws?.readyState === 1);
    bot.token = 'T';
    // Told to go with overlap: a second socket opens (held) while the first serves.
    first!.send(JSON.stringify({ type: 'reconnect', overlap: true }));
    await until(() => held.length === 1);
    // The first closes before the overlap socket opens: the bot reconnects (held as well).
    first!.close();
    await until(() => held.length === 2, 2000);
    // The overlap socket opens and is welcomed first, then the reconnect's socket opens.
    admit(1);
    await sleep(100);
    admit();
    await sleep(300);
    expect(open()).toBe(1);
  });
});
