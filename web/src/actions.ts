/**
 * What pressing a control does. Every control is a native button or form field (Enter and
 * Space work by themselves); one click listener on the page reads the pressed element's
 * `data-action`, so a control redrawn between Tab and Space still acts.
 */
import { render } from './app.js';
import { readOptions } from './components/options-form.js';
import { connection, sendGame } from './link.js';
import { backToStart, create, join, watch } from './navigation.js';
import { isHost, ui } from './store.js';

async function copyLink(target: HTMLElement): Promise<void> {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
    await navigator.clipboard.writeText(target.dataset.link ?? '');
    ui.copy = 'copied';
  } catch {
    // "Copied" only when it was: otherwise the link is selected for the person to copy.
    ui.copy = 'manual';
  }
  render();
  if (ui.copy === 'manual') {
    const input = document.getElementById('invite-link') as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }
}

function focusKey(key: string): void {
  document.querySelector<HTMLElement>(`[data-key="${key}"]`)?.focus();
}

/** The initial flip: choose cards of your own grid; the last one chosen sends them all. */
function chooseFlip(pos: number): void {
  const view = ui.view!;
  if (ui.status !== 'open') return;
  ui.selected = ui.selected.includes(pos) ? ui.selected.filter((p) => p !== pos) : [...ui.selected, pos];
  if (ui.selected.length === view.options.initial_flips) connection().send({ type: 'flip_initial', positions: ui.selected });
  render();
}

const GAME_COMMANDS: Record<string, Record<string, unknown>> = {
  start: { type: 'start_game' },
  'draw-deck': { type: 'draw', source: 'deck' },
  'draw-discard': { type: 'draw', source: 'discard' },
  discard: { type: 'discard' },
  skip: { type: 'skip_flip' },
  knock: { type: 'knock_early' },
  'next-round': { type: 'next_round' },
};

function act(target: HTMLElement): void {
  const action = target.dataset.action;
  if (!action || target.getAttribute('aria-disabled') === 'true') return;
  if (ui.error && ui.view) ui.error = null; // a new action: the last refusal is old news
  const pos = Number(target.dataset.pos);
  const view = ui.view;
  if (GAME_COMMANDS[action]) return sendGame(GAME_COMMANDS[action]);
  switch (action) {
    case 'add-cpu': {
      const profile = (document.getElementById('cpu') as HTMLSelectElement).value;
      return sendGame(profile ? { type: 'add_cpu', profile } : { type: 'add_cpu' });
    }
    case 'remove':
      return sendGame({ type: 'remove_player', player_id: target.dataset.player });
    case 'copy':
      return void copyLink(target);
    case 'watch':
      return watch();
    case 'stop-watching':
    case 'new-game':
      return backToStart();
    case 'leave':
      // Mid-game, leaving hands the seat to a CPU: ask first.
      if (view && view.phase !== 'lobby' && view.phase !== 'game_over') {
        ui.confirmLeave = true;
        render();
        return focusKey('leave-no');
      }
      connection().send({ type: 'leave' });
      return backToStart();
    case 'leave-confirmed':
      connection().send({ type: 'leave' });
      return backToStart();
    case 'leave-cancel':
      ui.confirmLeave = false;
      render();
      return focusKey('leave');
    case 'next-game':
      if (ui.status !== 'open') return;
      ui.nextGameAsked = true;
      connection().send({ type: 'next_game' });
      return render();
    case 'swap':
      return sendGame({ type: 'swap', position: pos });
    case 'flip-action':
      return sendGame({ type: 'flip_action', position: pos });
    case 'flip':
      return view?.must === 'flip_initial' ? chooseFlip(pos) : sendGame({ type: 'flip', position: pos });
  }
}

/** Listens on the page's root for typing, option changes, form submits and presses. */
export function installInput(app: HTMLElement): void {
  app.addEventListener('input', (event) => {
    const target = event.target as HTMLInputElement;
    if (target.id === 'name') ui.name = target.value;
    if (target.id === 'code') ui.code = target.value;
  });

  app.addEventListener('change', (event) => {
    const target = event.target as HTMLElement;
    if (!target.dataset.option) return;
    if (ui.view && ui.view.phase === 'lobby' && isHost()) {
      // The room's options are the server's: while the connection is down the change is not
      // sent, and the redraw puts the form back as the room has it.
      if (ui.status === 'open') connection().send({ type: 'set_options', options: readOptions(app) });
      else render();
    } else {
      ui.draftOptions = readOptions(app);
      localStorage.setItem('golf:options', JSON.stringify(ui.draftOptions));
      render();
    }
  });

  app.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = (event.target as HTMLElement).closest<HTMLElement>('[data-form]');
    if (form?.dataset.form === 'join') join();
    if (form?.dataset.form === 'create') create(app);
  });

  // The name field belongs to neither form, so Enter there submitted nothing: it joins the room
  // whose code is typed (an invite link fills it in), else creates one.
  app.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || (event.target as HTMLElement).id !== 'name') return;
    event.preventDefault();
    if (ui.code.trim()) join();
    else create(app);
  });

  // Escape closes the "Leave the game?" question, as it closes any dialog.
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !ui.confirmLeave) return;
    const stay = document.querySelector<HTMLElement>('[data-action="leave-cancel"]');
    if (stay) act(stay);
  });

  // Buttons only (native Enter and Space): submit buttons act through their form's submit.
  app.addEventListener('click', (event) => {
    const target = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
    if (target && (target as HTMLButtonElement).type !== 'submit') act(target);
  });
}
