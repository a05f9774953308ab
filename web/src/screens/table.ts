import { cardHtml } from '../components/card.js';
import { handHtml } from '../components/hand.js';
import { howToHtml } from '../components/how-to.js';
import { icons } from '../components/icons.js';
import { statusHtml } from '../components/status.js';
import { cardName, sameFace } from '../cards.js';
import { esc } from '../escape.js';
import { rulesInPlay } from '../rules.js';
import type { FaceUpCard, View } from '../types.js';
import { resultsHtml, type ResultsProps } from './results.js';

export interface TableProps {
  /** The view before this one (for the short highlight of what changed), or null. */
  previous: View | null;
  /** Initial-flip choices of your own grid. */
  selected: readonly number[];
  /** False while reconnecting (or for a replay): nothing can be pressed. */
  enabled: boolean;
  /** The "what just happened" line. */
  happened: string | null;
  /** A refusal of this page's last action, in words (announced through the live region too). */
  error?: string | null;
  /** The last few of those lines, newest first (the table's short history). */
  recent?: readonly string[];
  /** Leave asked mid-game: the confirmation is shown. */
  confirmLeave: boolean;
  results: ResultsProps;
  /** The card the current player took from the discard pile (public), while they hold it. */
  heldFromDiscard: FaceUpCard | null;
  /** Extra header controls (a replay's step buttons, a spectator's badge). */
  headerExtra?: string;
}

function changedPositions(prev: View | null, view: View, playerId: string): number[] {
  if (!prev || prev.round !== view.round || prev.game_id !== view.game_id) return [];
  const before = prev.players.find((p) => p.id === playerId);
  const after = view.players.find((p) => p.id === playerId);
  if (!before || !after) return [];
  return after.cards.map((c, i) => i).filter((i) => !sameFace(before.cards[i], after.cards[i]));
}

/**
 * The table for ANY view: a seated player's (`you` set), a spectator's (`you` and `must` null:
 * every hand is shown the same way, nothing can be pressed) or a replay frame (all revealed).
 */
export function tableHtml(v: View, props: TableProps): string {
  const mine = v.players.find((p) => p.id === v.you);
  const enabled = props.enabled;
  const others = v.players
    .filter((p) => p.id !== v.you)
    .map((p) => handHtml(v, p, { mine: false, selected: [], changed: changedPositions(props.previous, v, p.id), enabled: false }))
    .join('');
  const canDrawDeck = v.must === 'draw' && v.deck_count > 0;
  const canDrawDiscard = v.must === 'draw' && v.discard_top !== null;
  const canDiscard = v.must === 'place';
  const seated = mine !== undefined;
  const deck = cardHtml(
    { face_up: false, deck: 0 },
    {
      key: 'deck',
      action: canDrawDeck ? 'draw-deck' : null,
      button: seated,
      disabled: !enabled,
      label: `Deck, ${v.deck_count} cards${canDrawDeck ? ': press to draw the top card' : ''}`,
      attrs: 'data-testid="deck"',
    },
  );
  const top = v.discard_top;
  const discardAction = canDiscard ? 'discard' : canDrawDiscard ? 'draw-discard' : null;
  const discardLabel = top
    ? `Discard pile, ${cardName(top)} on top${
        canDiscard ? `: press to throw away the ${v.drawn_card ? cardName(v.drawn_card) : 'drawn card'}` : canDrawDiscard ? `: press to take the ${cardName(top)}` : ''
      }`
    : `Discard pile, empty${canDiscard ? ': press to throw away the drawn card' : ''}`;
  const discard = cardHtml(top, {
    key: 'discard',
    action: discardAction,
    button: seated,
    disabled: !enabled,
    label: discardLabel,
    attrs: 'data-testid="discard"',
    classes: props.previous && !sameFace(props.previous.discard_top, top) ? 'changed' : '',
  });
  const holder = v.players.find((p) => p.id === v.current_player_id);
  let held = '<div class="held" data-key="held"></div>';
  if (v.drawn_card) {
    held = `<div class="held" data-key="held"><span>You hold</span>${cardHtml(v.drawn_card, { key: 'drawn', label: `You hold the ${cardName(v.drawn_card)}`, classes: 'lift', attrs: 'data-testid="drawn"' })}</div>`;
  } else if (v.drawn_from && holder) {
    // A card taken from the discard pile is public: show it. One from the deck is not.
    const from = v.drawn_from === 'discard' ? props.heldFromDiscard : null;
    held = `<div class="held other" data-key="held"><span class="name">${esc(holder.name)} holds</span>${cardHtml(from ?? { face_up: false, deck: 0 }, {
      key: 'held-other',
      label: from ? `${holder.name} holds the ${cardName(from)} from the discard pile` : `${holder.name} holds a card from the deck`,
      attrs: 'data-testid="held-other"',
    })}</div>`;
  }
  const down = mine ? mine.cards.filter((c) => !c.face_up).length : 0;
  const dis = enabled ? '' : 'aria-disabled="true"';
  const buttons = [
    v.must === 'place' ? `<button type="button" data-key="discard-btn" data-action="discard" data-testid="discard-btn" ${dis}>Discard it</button>` : '',
    v.must === 'flip_or_skip' ? `<button type="button" data-key="skip" data-action="skip" data-testid="skip" ${dis}>Skip flip</button>` : '',
    v.must === 'draw' && v.options.knock_early && down >= 1 && down <= 2
      ? `<button type="button" data-key="knock" data-action="knock" data-testid="knock" ${dis}>Knock (flip all, go out)</button>`
      : '',
  ].join('');
  const chips = rulesInPlay(v.options).map((line) => `<span class="chip">${esc(line.split(':')[0]!)}</span>`);
  const over = v.phase === 'round_over' || v.phase === 'game_over';
  const leaveConfirm = props.confirmLeave
    ? `<div class="confirm" role="alertdialog" aria-labelledby="confirm-leave-text" data-key="confirm-leave">
        <p id="confirm-leave-text">Leave the game? A CPU will play your seat for the rest of it, and the others are told.</p>
        <button type="button" class="danger" data-key="leave-yes" data-action="leave-confirmed" data-testid="leave-yes" ${dis}>Leave the game</button>
        <button type="button" data-key="leave-no" data-action="leave-cancel" data-testid="leave-no">Stay</button>
      </div>`
    : '';
  return `
  <section class="game ${over ? 'with-results' : ''}" data-key="screen-table">
    <header class="bar">
      <h1 tabindex="-1">Room <span class="code">${esc(v.room)}</span></h1>
      <div class="round" data-testid="round">${icons.flag()} Hole ${v.round} of ${v.rounds}</div>
      ${props.headerExtra ?? ''}
      ${seated ? `<button type="button" class="ghost" data-key="leave" data-action="leave" data-testid="leave" ${dis}>${icons.leave()} <span class="label">Leave</span></button>` : ''}
    </header>
    ${leaveConfirm}
    ${statusHtml(v, props.selected.length, props.happened)}
    ${props.error ? `<p class="error" data-testid="error" data-key="table-error">${esc(props.error)}</p>` : ''}
    <div class="opponents ${seated ? '' : 'everyone'} ${v.players.length - (seated ? 1 : 0) >= 3 ? 'many' : ''}">${others}</div>
    <div class="table" role="group" aria-label="Piles">
      <div class="pile">${deck}<span class="count">${v.deck_count} left</span></div>
      <div class="pile">${discard}<span class="count">discard</span></div>
      ${held}
    </div>
    ${
      mine
        ? `<div class="me">
        ${handHtml(v, mine, { mine: true, selected: props.selected, changed: changedPositions(props.previous, v, mine.id), enabled })}
        <div class="actions">${buttons}</div>
      </div>`
        : ''
    }
    <div class="chips">${chips.join('') || '<span class="chip">Standard rules</span>'}</div>
    ${
      props.recent && props.recent.length > 1
        ? `<details class="recent" data-key="recent"><summary>Recent moves</summary><ol>${props.recent.map((line) => `<li>${esc(line)}</li>`).join('')}</ol></details>`
        : ''
    }
    ${howToHtml(v.options)}
    ${over ? resultsHtml(v, props.results) : ''}
  </section>`;
}

/** Tracks the card a player took from the discard pile across views (the view names only the pile's new top). */
export function heldFromDiscard(prev: View | null, view: View, known: FaceUpCard | null): FaceUpCard | null {
  if (view.drawn_from !== 'discard') return null;
  if (prev && prev.game_id === view.game_id && prev.drawn_from === null) return prev.discard_top;
  return known;
}
