/** Starts the Colyseus baseline on PORT (a child process of scripts/bench-node.ts). */
import { Server } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import { GolfRoom } from './golf-room.js';

const server = new Server({ transport: new WebSocketTransport() });
server.define('golf', GolfRoom);
await server.listen(Number(process.env.PORT ?? 2567), '127.0.0.1');
process.stdout.write('colyseus ready\n');
