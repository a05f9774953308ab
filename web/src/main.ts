/**
 * The browser client's entry: the connection, the state it keeps, and one render that turns
 * both into the current screen (screens/ and components/ hold the markup, render.ts keeps focus).
 */
import './style.css';
import { Connection, storeToken, storedToken, type ServerMessage } from './connection.js';
import { readOptions } from './components/options-form.js';
import { announcement } from './components/status.js';
import { whatHappened } from './describe.js';
import { friendlyError } from './errors.js';
import { patch } from './render.js';
import { lobbyHtml } from './screens/lobby.js';
import { startHtml } from './screens/start.js';
import { startReplay } from './replay.js';
import { spectatorHtml, watchingBadge } from './screens/spectator.js';
import { heldFromDiscard, tableHtml } from './screens/table.js';
import { isHost, ui } from './store.js';
import type { View } from './types.js';

const app = document.getElementById('app')!;
const banner = document.getElementById('banner')!;
const live = document.getElementById('live')!;

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const connection = new Connection(wsUrl, {
  message: onMessage,
  status: (next) => {
    const was = ui.status;
    ui.status = next;
    if (was !== next && ui.view) say(next === 'open' ? 'Connected again' : next === 'reconnecting' ? 'Connection lost: reconnecting…' : '');
    render();
  },
});

/** The last seat command sent from the start screen: its errors go next to its field. */
let pendingSeat: 'join' | 'create' | null = null;
let heldCard: View['discard_top'] = null;

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case 'welcome':
      // Counted for tests and tools: a new welcome means the seat was (re)gained.
      document.body.dataset.welcomes = String(Number(document.body.dataset.welcomes ?? 0) + 1);
      storeToken(message.token);
      ui.error = null;
      pendingSeat = null;
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
      if (ui.watching && (message.code === 'unauthorized' || message.code === 'unknown_room') && (!ui.view || ui.view.you === null)) {
        // Watching is refused or ended (spectating off, too many, no such room): back to the start, told why.
        stopWatching();
        ui.error = { message: message.code === 'unknown_room' ? `There is no room ${ui.code.toUpperCase()} to watch.` : `You cannot watch this room: ${message.message}.`, field: null };
        render();
        break;
      }
      if (message.code === 'unauthorized' && !ui.view) storeToken(null); // a stale token: start over
      ui.error = friendlyError(message.code, message.message, ui.view ? null : pendingSeat, ui.code);
      if (message.code === 'unknown_room' || message.code === 'unauthorized') ui.nextGameAsked = false;
      // Said through the one live region; on the start screen the field it concerns gets focus.
      say(ui.error.message);
      render();
      if (ui.error.field) document.getElementById(ui.error.field)?.focus();
      break;
  }
}

function setView(next: View): void {
  const prev = ui.view;
  const happened = whatHappened(prev, next);
  if (prev && prev.game_id !== next.game_id) {
    ui.log = [];
    ui.nextGameAsked = false;
    ui.confirmLeave = false;
  }
  if (happened) ui.log = [happened, ...ui.log].slice(0, 8);
  heldCard = heldFromDiscard(prev, next, heldCard);
  ui.previous = prev;
  ui.view = next;
  if (next.must !== 'flip_initial') ui.selected = [];
  if (next.phase !== 'lobby') ui.copy = 'idle';
  const words = announcement(prev, next, happened, ui.selected.length);
  if (words) say(words);
  render();
}

/** The one live region: its text changes, the element never does. */
function say(text: string): void {
  if (!text) return;
  // The same words twice in a row are announced again only if the text node changes.
  live.textContent = live.textContent === text ? `${text}\u00a0` : text;
}

function countdown(view: View): number | null {
  if (view.phase !== 'round_over' || !view.next_round_at) return null;
  return Math.max(0, Math.ceil((view.next_round_at - Date.now()) / 1000));
}

/**
 * Where focus goes when the focused control is gone after an update (the results panel closing
 * as the next hole starts): what can be pressed now in your grid or the piles, else the status.
 */
function refocus(hadFocus: boolean, screenChanged: boolean): void {
  if (!hadFocus || (document.activeElement && document.activeElement !== document.body)) return;
  // A new screen: its heading, so that reading and tabbing start at its top.
  const next = (screenChanged ? document.querySelector<HTMLElement>('#app h1') : null) ??
    document.querySelector<HTMLElement>('[data-testid="results"] [data-action]') ??
    document.querySelector<HTMLElement>('[data-testid="my-hand"] [data-action], [data-testid="deck"][data-action], [data-testid="discard"][data-action]') ??
    document.querySelector<HTMLElement>('[data-testid="my-card"]') ??
    document.querySelector<HTMLElement>('#app button, #app input');
  next?.focus();
}

function render(): void {
  const focused = document.activeElement;
  const hadFocus = !!focused && focused !== document.body && app.contains(focused);
  const view = ui.view;
  const screen = view && view.you === null && ui.watching ? `spectator-${view.phase === 'lobby' ? 'lobby' : 'table'}` : !view || !view.you ? 'start' : view.phase === 'lobby' ? 'lobby' : 'table';
  const screenChanged = screen !== shownScreen;
  shownScreen = screen;
  const enabled = ui.status === 'open';
  document.body.dataset.phase = view?.phase ?? 'home';
  document.body.dataset.must = view?.must ?? '';
  document.body.dataset.connection = ui.status;
  if (view && view.you === null && ui.watching) {
    patch(app, spectatorHtml(view, tableProps(view, false)));
  } else if (!view || !view.you) {
    patch(app, startHtml({ name: ui.name, code: ui.code, options: ui.draftOptions, error: ui.error, resuming: !!storedToken() && ui.status !== 'open' }));
  } else if (view.phase === 'lobby') {
    const invite = `${location.origin}${location.pathname}?room=${view.room}`;
    patch(app, lobbyHtml(view, { host: isHost(), invite, copy: ui.copy, error: ui.error?.message ?? null, enabled }));
  } else {
    patch(app, tableHtml(view, { ...tableProps(view, enabled), headerExtra: watchingBadge(view) }));
  }
  banner.hidden = !(view && ui.status === 'reconnecting');
  document.body.classList.toggle('offline', !banner.hidden);
  refocus(hadFocus, screenChanged);
}

function tableProps(view: View, enabled: boolean) {
  return {
    previous: ui.previous,
    selected: ui.selected,
    enabled,
    happened: ui.log[0] ?? null,
    error: ui.error?.message ?? null,
    recent: ui.log,
    confirmLeave: ui.confirmLeave,
    heldFromDiscard: heldCard,
    results: { countdown: countdown(view), host: isHost(), enabled, nextGameAsked: ui.nextGameAsked },
  };
}

let shownScreen = '';

// The countdown to the next hole ticks on its own.
setInterval(() => {
  if (ui.view?.phase === 'round_over') render();
}, 500);

// ---------- input ----------

function playerName(): string | null {
  const name = ui.name.trim();
  if (!name) {
    ui.error = { message: 'Enter your name first.', field: 'name' };
  } else if ([...name].length > 24) {
    ui.error = { message: `Names can be at most 24 characters; this one has ${[...name].length}.`, field: 'name' };
  } else {
    localStorage.setItem('golf:name', name);
    return name;
  }
  say(ui.error.message);
  render();
  document.getElementById('name')?.focus();
  return null;
}

app.addEventListener('input', (event) => {
  const target = event.target as HTMLInputElement;
  if (target.id === 'name') ui.name = target.value;
  if (target.id === 'code') ui.code = target.value;
});

app.addEventListener('change', (event) => {
  const target = event.target as HTMLElement;
  if (!target.dataset.option) return;
  if (ui.view && ui.view.phase === 'lobby' && isHost()) connection.send({ type: 'set_options', options: readOptions(app) });
  else {
    ui.draftOptions = readOptions(app);
    localStorage.setItem('golf:options', JSON.stringify(ui.draftOptions));
    render();
  }
});

app.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = (event.target as HTMLElement).closest<HTMLElement>('[data-form]');
  if (form?.dataset.form === 'join') join();
  if (form?.dataset.form === 'create') create();
});

function join(): void {
  ui.error = null;
  const code = ui.code.trim().toUpperCase();
  if (!/^[A-Z]{4}$/.test(code)) {
    ui.error = { message: 'A room code is 4 letters, like ABCD.', field: 'code' };
    say(ui.error.message);
    render();
    document.getElementById('code')?.focus();
    return;
  }
  const name = playerName();
  if (!name) return;
  pendingSeat = 'join';
  connection.send({ type: 'join_room', room: code, name });
}

function create(): void {
  ui.error = null;
  const name = playerName();
  if (!name) return;
  pendingSeat = 'create';
  connection.send({ type: 'create_room', name, options: readOptions(app) });
}

/** Game commands wait for the connection: while it is down nothing is sent (nothing would happen for seconds). */
function sendGame(message: Record<string, unknown>): void {
  if (ui.status !== 'open') return;
  connection.send(message);
}

/** Watches the room typed in as a spectator (no seat, no name needed). */
function watch(): void {
  ui.error = null;
  const code = ui.code.trim().toUpperCase();
  if (!/^[A-Z]{4}$/.test(code)) {
    ui.error = { message: 'A room code is 4 letters, like ABCD.', field: 'code' };
    render();
    document.getElementById('code')?.focus();
    return;
  }
  ui.watching = code;
  connection.watch(code);
}

function stopWatching(): void {
  if (!ui.watching) return;
  connection.watch(null);
  ui.watching = null;
  ui.view = null;
  ui.previous = null;
  history.replaceState(null, '', location.pathname);
}

function backToStart(): void {
  if (ui.watching) connection.send({ type: 'leave' });
  stopWatching();
  storeToken(null);
  ui.view = null;
  ui.previous = null;
  ui.log = [];
  ui.confirmLeave = false;
  history.replaceState(null, '', location.pathname);
  ui.code = '';
  render();
  document.getElementById('name')?.focus();
}

async function copyLink(target: HTMLElement): Promise<void> {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
    await navigator.clipboard.writeText(target.dataset.link ?? '');
    ui.copy = 'copied';
  } catch {
    ui.copy = 'manual';
  }
  render();
  if (ui.copy === 'manual') {
    const input = document.getElementById('invite-link') as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }
}

function act(target: HTMLElement): void {
  const action = target.dataset.action;
  if (!action || target.getAttribute('aria-disabled') === 'true') return;
  if (ui.error && ui.view) ui.error = null; // a new action: the last refusal is old news
  const pos = Number(target.dataset.pos);
  const view = ui.view;
  switch (action) {
    case 'add-cpu': {
      const profile = (document.getElementById('cpu') as HTMLSelectElement).value;
      sendGame(profile ? { type: 'add_cpu', profile } : { type: 'add_cpu' });
      return;
    }
    case 'remove':
      sendGame({ type: 'remove_player', player_id: target.dataset.player });
      return;
    case 'start':
      sendGame({ type: 'start_game' });
      return;
    case 'copy':
      void copyLink(target);
      return;
    case 'watch':
      watch();
      return;
    case 'stop-watching':
      backToStart();
      return;
    case 'leave':
      // Mid-game, leaving hands the seat to a CPU: ask first.
      if (view && view.phase !== 'lobby' && view.phase !== 'game_over') {
        ui.confirmLeave = true;
        render();
        document.querySelector<HTMLElement>('[data-key="leave-no"]')?.focus();
        return;
      }
      connection.send({ type: 'leave' });
      backToStart();
      return;
    case 'leave-confirmed':
      connection.send({ type: 'leave' });
      backToStart();
      return;
    case 'leave-cancel':
      ui.confirmLeave = false;
      render();
      document.querySelector<HTMLElement>('[data-key="leave"]')?.focus();
      return;
    case 'new-game':
      backToStart();
      return;
    case 'next-game':
      if (ui.status !== 'open') return;
      ui.nextGameAsked = true;
      connection.send({ type: 'next_game' });
      render();
      return;
    case 'draw-deck':
      sendGame({ type: 'draw', source: 'deck' });
      return;
    case 'draw-discard':
      sendGame({ type: 'draw', source: 'discard' });
      return;
    case 'discard':
      sendGame({ type: 'discard' });
      return;
    case 'skip':
      sendGame({ type: 'skip_flip' });
      return;
    case 'knock':
      sendGame({ type: 'knock_early' });
      return;
    case 'next-round':
      sendGame({ type: 'next_round' });
      return;
    case 'swap':
      sendGame({ type: 'swap', position: pos });
      return;
    case 'flip-action':
      sendGame({ type: 'flip_action', position: pos });
      return;
    case 'flip':
      if (view?.must === 'flip_initial') {
        if (ui.status !== 'open') return;
        ui.selected = ui.selected.includes(pos) ? ui.selected.filter((p) => p !== pos) : [...ui.selected, pos];
        if (ui.selected.length === view.options.initial_flips) connection.send({ type: 'flip_initial', positions: ui.selected });
        render();
      } else sendGame({ type: 'flip', position: pos });
      return;
  }
}

// Buttons only (native Enter and Space): submit buttons act through their form's submit.
app.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
  if (target && (target as HTMLButtonElement).type !== 'submit') act(target);
});

const params = new URLSearchParams(location.search);
const replayId = params.get('replay');
if (replayId) {
  // A replay needs no connection: it is one HTTP request, folded here with the engine.
  void startReplay(app, replayId);
} else {
  const watchCode = params.get('watch');
  if (watchCode && /^[A-Za-z]{4}$/.test(watchCode) && !storedToken()) {
    ui.code = watchCode.toUpperCase();
    ui.watching = ui.code;
    connection.watch(ui.code);
  }
  render();
  connection.start();
}
