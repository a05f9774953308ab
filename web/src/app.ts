/**
 * The page's one render: turns the state (store.ts) into the current screen, patched in place
 * (render.ts) so the focused element survives, and puts focus somewhere sensible when the
 * focused control itself is gone.
 */
import { storedToken } from './connection.js';
import { lobbyHtml } from './screens/lobby.js';
import { spectatorHtml, watchingBadge } from './screens/spectator.js';
import { startHtml } from './screens/start.js';
import { tableHtml, type TableProps } from './screens/table.js';
import { patch } from './render.js';
import { serverNow } from './server-clock.js';
import { isHost, ui } from './store.js';
import type { View } from './types.js';

let shownScreen = '';

/** Seconds until the next hole starts by itself, from the view's deadline (on the server's clock). */
function countdown(view: View): number | null {
  if (view.phase !== 'round_over' || !view.next_round_at) return null;
  return Math.max(0, Math.ceil((view.next_round_at - serverNow()) / 1000));
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

function tableProps(view: View, enabled: boolean): TableProps {
  return {
    previous: ui.previous,
    selected: ui.selected,
    enabled,
    happened: ui.log[0] ?? null,
    error: ui.error?.message ?? null,
    recent: ui.log,
    confirmLeave: ui.confirmLeave,
    heldFromDiscard: ui.heldFromDiscard,
    results: { countdown: countdown(view), host: isHost(), enabled, nextGameAsked: ui.nextGameAsked },
  };
}

export function render(): void {
  const app = document.getElementById('app')!;
  const banner = document.getElementById('banner')!;
  const focused = document.activeElement;
  const hadFocus = !!focused && focused !== document.body && app.contains(focused);
  const view = ui.view;
  const watching = !!view && view.you === null && !!ui.watching;
  const screen = watching ? `spectator-${view.phase === 'lobby' ? 'lobby' : 'table'}` : !view || !view.you ? 'start' : view.phase === 'lobby' ? 'lobby' : 'table';
  const screenChanged = screen !== shownScreen;
  shownScreen = screen;
  const enabled = ui.status === 'open';
  document.body.dataset.phase = view?.phase ?? 'home';
  document.body.dataset.must = view?.must ?? '';
  document.body.dataset.connection = ui.status;
  if (view && watching) {
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

/** The countdown to the next hole ticks on its own. */
export function tickCountdown(): void {
  setInterval(() => {
    if (ui.view?.phase === 'round_over') render();
  }, 500);
}
