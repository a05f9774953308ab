import { cardValueLines, rulesInPlay } from '../rules.js';
import { esc } from '../escape.js';
import { icons } from './icons.js';

/** "How to play": the goal, the card values under the options in play, one line per house rule. */
export function howToHtml(options: Record<string, any>): string {
  const rules = rulesInPlay(options);
  return `<details class="how-to" data-key="how-to">
    <summary>${icons.help()} How to play</summary>
    <div class="how-to-body">
      <p>Each hole, get the lowest total from your six cards. On your turn take the top of the deck or the discard pile, then swap it into your grid (the old card is discarded) or, if it came from the deck, discard it. When all your cards are face up you go out, and everyone else has one last turn.</p>
      <h2>Card values</h2>
      <ul>${cardValueLines(options).map((line) => `<li>${esc(line)}</li>`).join('')}</ul>
      <h2>House rules in play</h2>
      <ul>${rules.length ? rules.map((line) => `<li>${esc(line)}</li>`).join('') : '<li>None: standard rules.</li>'}</ul>
    </div>
  </details>`;
}
