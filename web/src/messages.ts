/**
 * What the page does with what the server says: a seat gained, a new view (with the line saying
 * what just happened and what the live region announces), a refusal in words, and the
 * connection going down and coming back.
 */
import { storeToken, type ServerMessage } from './connection.js';
import { render } from './app.js';
import { announcement } from './components/status.js';
import { whatHappened } from './describe.js';
import { friendlyError } from './errors.js';
import { say } from './live.js';
import { pendingSeat, seatAnswered, stopWatching } from './navigation.js';
import { heldFromDiscard } from './screens/table.js';
import { ui } from './store.js';
import type { ConnectionStatus, View } from './types.js';

export function onStatus(next: ConnectionStatus): void {
  const was = ui.status;
  ui.status = next;
  if (was !== next && ui.view) say(next === 'open' ? 'Connected again' : next === 'reconnecting' ? 'Connection lost: reconnecting… nothing can be played until it is back' : '');
  render();
}

export function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'welcome':
      // Counted for tests and tools: a new welcome means the seat was (re)gained.
      document.body.dataset.welcomes = String(Number(document.body.dataset.welcomes ?? 0) + 1);
      storeToken(message.token);
      ui.error = null;
      seatAnswered();
      // A spectator's welcome has no seat: its link is the watch link.
      ui.watching = message.player_id === null ? message.room : null;
      history.replaceState(null, '', message.player_id === null ? `?watch=${message.room}` : `?room=${message.room}`);
      ui.seq = message.seq;
      setView(message.state);
      break;
    case 'state':
      // Frames can arrive late over the cluster's bus (a node waking from a pause): never go
      // back to an older view of the same game. Presence changes keep the same seq.
      if (ui.view && message.state.game_id === ui.view.game_id && message.seq < ui.seq) break;
      ui.seq = message.seq;
      setView(message.state);
      break;
    case 'error':
      onError(message.code, message.message);
      break;
  }
}

function onError(code: string, text: string): void {
  if (ui.watching && (code === 'unauthorized' || code === 'unknown_room') && (!ui.view || ui.view.you === null)) {
    // Watching is refused or ended (spectating off, too many, no such room): back to the start, told why.
    stopWatching();
    ui.error = { message: code === 'unknown_room' ? `There is no room ${ui.code.toUpperCase()} to watch.` : `You cannot watch this room: ${text}.`, field: null };
    say(ui.error.message);
    render();
    return;
  }
  if (code === 'unauthorized' && !ui.view) storeToken(null); // a stale token: start over
  ui.error = friendlyError(code, text, ui.view ? null : pendingSeat, ui.code);
  if (code === 'unknown_room' || code === 'unauthorized') ui.nextGameAsked = false;
  // Said through the one live region; on the start screen the field it concerns gets focus.
  say(ui.error.message);
  render();
  if (ui.error.field) document.getElementById(ui.error.field)?.focus();
}

function setView(next: View): void {
  const prev = ui.view;
  const happened = whatHappened(prev, next);
  if (prev && prev.game_id !== next.game_id) {
    // A new game at the same table (play again): its history starts empty.
    ui.log = [];
    ui.nextGameAsked = false;
    ui.confirmLeave = false;
  }
  if (happened) ui.log = [happened, ...ui.log].slice(0, 8);
  ui.heldFromDiscard = heldFromDiscard(prev, next, ui.heldFromDiscard);
  ui.previous = prev;
  ui.view = next;
  if (next.must !== 'flip_initial') ui.selected = [];
  if (next.phase !== 'lobby') ui.copy = 'idle';
  say(announcement(prev, next, whatHappened(prev, next, 'spoken'), ui.selected.length));
  render();
}
