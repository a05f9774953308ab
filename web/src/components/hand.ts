import { CPU_PROFILES } from '../../../src/ai/profiles.js';
import { cardName, positionName } from '../cards.js';
import { handValue } from '../hand-value.js';
import { esc } from '../escape.js';
import type { Player, View } from '../types.js';
import { cardHtml, cardLabel } from './card.js';
import { icons } from './icons.js';

export interface HandOptions {
  /** This page's own seat: its cards are buttons. */
  mine: boolean;
  /** Initial-flip choices (only ever passed for your own hand). */
  selected: readonly number[];
  /** Positions changed by the last update (a short highlight). */
  changed: readonly number[];
  /** False while reconnecting: nothing can be pressed. */
  enabled: boolean;
}

export function cpuStyle(profile: string | null): string {
  return CPU_PROFILES.find((p) => p.name === profile)?.style ?? 'CPU';
}

/** The name line of a seat: name cut with an ellipsis, CPU personality, host, out, turn. */
export function whoHtml(view: View, p: Player): string {
  const badges = [
    p.is_cpu ? `<span class="badge cpu">${icons.cpu()} CPU · ${esc(cpuStyle(p.cpu_profile))}</span>` : '',
    p.id === view.host_id ? '<span class="badge host">host</span>' : '',
    p.id === view.finisher_id ? '<span class="badge out">went out</span>' : '',
  ].join('');
  const dot = `<span class="dot ${p.connected ? 'on' : ''}" role="img" aria-label="${p.connected ? 'connected' : 'away'}"></span>`;
  return `<div class="who">${dot}<span class="name" title="${esc(p.name)}">${esc(p.name)}</span>${p.id === view.you ? '<span class="you-tag">(you)</span>' : ''}${badges}</div>`;
}

function actionFor(view: View, mine: boolean, down: boolean): string | null {
  if (!mine) return null;
  const must = view.must;
  if ((must === 'flip_initial' || must === 'flip' || must === 'flip_or_skip') && down) return 'flip';
  if (must === 'place' || must === 'swap') return 'swap';
  if (must === 'draw' && view.options.flip_as_action && down) return 'flip-action';
  return null;
}

function doing(view: View, action: string | null, selected: boolean): string {
  switch (action) {
    case 'flip':
      if (view.must === 'flip_initial') return selected ? 'chosen to flip; press to unchoose' : 'press to choose it for your first flip';
      return 'press to flip it';
    case 'swap':
      return `press to put the ${view.drawn_card ? cardName(view.drawn_card) : 'drawn card'} here and discard this one`;
    case 'flip-action':
      return 'press to flip it as your move';
    default:
      return '';
  }
}

/** One seat's grid: for any view (a player's, a spectator's, a replay frame). */
export function handHtml(view: View, p: Player, o: HandOptions): string {
  const value = handValue(p, view.options);
  const over = view.phase === 'round_over' || view.phase === 'game_over';
  const owner = o.mine ? 'Your' : `${p.name}’s`;
  const cards = p.cards
    .map((card, pos) => {
      const action = actionFor(view, o.mine, !card.face_up);
      const sel = o.mine && o.selected.includes(pos);
      const pair = value.matched.includes(pos % 3);
      const what = `${positionName(pos)}: ${cardLabel(card)}${pair ? ' (a pair: scores 0)' : ''}`;
      const does = doing(view, action, sel);
      return cardHtml(card, {
        key: `${p.id}-card-${pos}`,
        action,
        button: o.mine,
        disabled: !o.enabled,
        label: o.mine ? `${what}${does ? `; ${does}` : ''}` : `${p.name}, ${what}`,
        classes: `${sel ? 'selected' : ''} ${pair ? 'matched' : ''} ${o.changed.includes(pos) ? 'changed' : ''}`,
        attrs: `data-pos="${pos}" ${o.mine ? 'data-testid="my-card"' : ''} ${sel ? 'aria-pressed="true"' : o.mine && view.must === 'flip_initial' && action ? 'aria-pressed="false"' : ''}`,
      });
    })
    .join('');
  // Each part its own span: a narrow hand wraps between them, never inside one.
  const scoreLine = over
    ? `<span>Hole: <strong>${p.round_score ?? '–'}</strong></span><span>· total ${p.total_score}</span>`
    : `<span>Showing <strong data-testid="hand-value">${value.showing}</strong></span>${value.faceDown ? `<span>· ${value.faceDown} down</span>` : ''}<span>· total ${p.total_score}</span>`;
  const pairs = value.matched.length ? `<span class="pairs">${icons.pair()} ${value.matched.length === 1 ? '1 pair' : `${value.matched.length} pairs`}</span>` : '';
  return `<section class="hand ${o.mine ? 'mine' : 'other'} ${p.id === view.current_player_id ? 'turn' : ''}" data-key="hand-${esc(p.id)}" data-testid="${o.mine ? 'my-hand' : 'opponent'}" aria-label="${esc(owner)} hand">
    ${whoHtml(view, p)}
    <div class="grid ${o.mine ? 'mine' : ''}" role="group" aria-label="${esc(owner)} cards">${cards}</div>
    <div class="score">${scoreLine} ${pairs}</div>
  </section>`;
}
