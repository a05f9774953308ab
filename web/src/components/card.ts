import { cardName, SUIT_SYMBOL } from '../cards.js';
import { esc } from '../escape.js';
import type { Card, FaceUpCard } from '../types.js';
import { icons } from './icons.js';

export interface CardOptions {
  /** Stable key: the element keeps focus across updates. */
  key: string;
  /** What pressing it does (data-action); with `label` it renders as a button. */
  action?: string | null;
  /** Rendered as a button even when it does nothing now (aria-disabled keeps focus on it). */
  button?: boolean;
  /** The accessible name: what the card is and what pressing it does. */
  label: string;
  classes?: string;
  attrs?: string;
  disabled?: boolean;
}

function face(card: Card | FaceUpCard | null): string {
  if (!card) return '';
  if ('face_up' in card && !card.face_up) return '';
  const c = card as FaceUpCard;
  // The glyphs are drawn by CSS (attr()): the card's accessible name is its label alone, so a
  // screen reader says "King of spades", and the visible "K ♠" is not a second, clashing name.
  if (c.rank === 'JOKER') return `<span class="rank">${icons.joker()}</span><span class="suit" data-glyph="Joker"></span>`;
  return `<span class="rank" data-glyph="${esc(c.rank)}"></span><span class="suit" data-glyph="${SUIT_SYMBOL[c.suit] ?? ''}"></span>`;
}

function faceClasses(card: Card | FaceUpCard | null): string {
  if (!card) return 'empty';
  if ('face_up' in card && !card.face_up) return `back deck${card.deck}`;
  const c = card as FaceUpCard;
  return `face ${c.suit === 'hearts' || c.suit === 'diamonds' ? 'red' : ''}`;
}

export function faceAttr(card: Card | FaceUpCard | null): string {
  if (!card) return 'data-face="none"';
  return 'face_up' in card && !card.face_up ? 'data-face="down"' : 'data-face="up"';
}

/** A card: a button when it can be pressed (now or later), otherwise an image with a name. */
export function cardHtml(card: Card | FaceUpCard | null, o: CardOptions): string {
  const cls = `card ${faceClasses(card)} ${o.action && !o.disabled ? 'clickable' : ''} ${o.classes ?? ''}`;
  const common = `data-key="${esc(o.key)}" ${faceAttr(card)} ${o.attrs ?? ''}`;
  if (o.button || o.action) {
    const live = o.action && !o.disabled;
    return `<button type="button" class="${cls}" ${common} ${live ? `data-action="${o.action}"` : 'aria-disabled="true"'} aria-label="${esc(o.label)}">${face(card)}</button>`;
  }
  return `<div class="${cls}" ${common} role="img" aria-label="${esc(o.label)}">${face(card)}</div>`;
}

/** "7 of hearts" / "face-down card" for labels. */
export function cardLabel(card: Card | FaceUpCard | null): string {
  if (!card) return 'empty';
  if ('face_up' in card && !card.face_up) return 'face-down card';
  return cardName(card as FaceUpCard);
}
