/**
 * Taking a seat or a place to watch from the start screen, and going back to it: what the page
 * checks before asking (so the person is told next to the field, in words), and what it forgets
 * after.
 */
import { storeToken } from './connection.js';
import { render } from './app.js';
import { readOptions } from './components/options-form.js';
import { connection } from './link.js';
import { say } from './live.js';
import { ui, type ErrorField } from './store.js';

/** The last seat command sent from the start screen: its errors go next to its field. */
export let pendingSeat: 'join' | 'create' | null = null;

export function seatAnswered(): void {
  pendingSeat = null;
}

/** A mistake in the form: said next to its field, announced, and the field focused. */
function refuse(message: string, field: ErrorField): void {
  ui.error = { message, field };
  say(message);
  render();
  if (field) document.getElementById(field)?.focus();
}

function playerName(): string | null {
  const name = ui.name.trim();
  const length = [...name].length;
  if (!name) refuse('Enter your name first.', 'name');
  // Refused, not cut: the person sees what is wrong and keeps what they typed.
  else if (length > 24) refuse(`Names can be at most 24 characters; this one has ${length}.`, 'name');
  else {
    localStorage.setItem('golf:name', name);
    return name;
  }
  return null;
}

function roomCode(): string | null {
  const code = ui.code.trim().toUpperCase();
  if (/^[A-Z]{4}$/.test(code)) return code;
  refuse('A room code is 4 letters, like ABCD.', 'code');
  return null;
}

export function join(): void {
  ui.error = null;
  const code = roomCode();
  const name = code && playerName();
  if (!code || !name) return;
  pendingSeat = 'join';
  connection().send({ type: 'join_room', room: code, name });
}

export function create(app: HTMLElement): void {
  ui.error = null;
  const name = playerName();
  if (!name) return;
  pendingSeat = 'create';
  connection().send({ type: 'create_room', name, options: readOptions(app) });
}

/** Watches the room typed in as a spectator (no seat, no name needed). */
export function watch(): void {
  ui.error = null;
  const code = roomCode();
  if (!code) return;
  ui.watching = code;
  connection().watch(code);
}

export function stopWatching(): void {
  if (!ui.watching) return;
  connection().watch(null);
  ui.watching = null;
  ui.view = null;
  ui.previous = null;
  history.replaceState(null, '', location.pathname);
}

/** Back to the start screen: the seat (or the watch) is given up here, the name kept. */
export function backToStart(): void {
  if (ui.watching) connection().send({ type: 'leave' });
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
