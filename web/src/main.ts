/**
 * The browser client's entry: a replay page (no connection), or the game page: the connection
 * wired to the message handling (messages.ts), the input (actions.ts) and the one render
 * (app.ts). Screens and components hold the markup, render.ts keeps focus across updates.
 */
import './style.css';
import { installInput } from './actions.js';
import { render, tickCountdown } from './app.js';
import { Connection, storedToken } from './connection.js';
import { useConnection } from './link.js';
import { onMessage, onStatus } from './messages.js';
import { startReplay } from './replay.js';
import { measureServerClock } from './server-clock.js';
import { ui } from './store.js';

const app = document.getElementById('app')!;
const params = new URLSearchParams(location.search);
const replayId = params.get('replay');

if (replayId) {
  // A replay needs no connection: it is one HTTP request, folded here with the engine.
  void startReplay(app, replayId);
} else {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const connection = new Connection(wsUrl, { message: onMessage, status: onStatus });
  useConnection(connection);
  installInput(app);
  void measureServerClock();
  tickCountdown();
  const watchCode = params.get('watch');
  if (watchCode && /^[A-Za-z]{4}$/.test(watchCode) && !storedToken()) {
    ui.code = watchCode.toUpperCase();
    ui.watching = ui.code;
    connection.watch(ui.code);
  }
  render();
  connection.start();
}
