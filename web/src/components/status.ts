import { cardName } from '../cards.js';
import { esc } from '../escape.js';
import type { View } from '../types.js';

/** Whether this is the seat's last turn of the hole (someone else went out). */
export function isLastTurn(view: View): boolean {
  return view.finisher_id !== null && view.finisher_id !== view.you && view.must !== null && view.must !== 'flip_initial';
}

/** The prompt: what you must do now, or whose turn it is (any view, a spectator's too). */
export function statusText(view: View, selected: number): string {
  const current = view.players.find((p) => p.id === view.current_player_id);
  const last = isLastTurn(view) ? 'Last turn! ' : '';
  switch (view.must) {
    case 'flip_initial':
      return `Flip ${view.options.initial_flips} of your cards (${selected} of ${view.options.initial_flips} chosen)`;
    case 'draw':
      return `${last}Your turn: take the deck or the discard pile${view.options.flip_as_action ? ', or flip a card' : ''}`;
    case 'place':
      return `${last}You drew the ${view.drawn_card ? cardName(view.drawn_card) : 'card'}: swap it into your grid, or discard it`;
    case 'swap':
      return `${last}You took the ${view.drawn_card ? cardName(view.drawn_card) : 'card'}: swap it into your grid`;
    case 'flip':
      return `${last}Flip one of your face-down cards`;
    case 'flip_or_skip':
      return `${last}Flip a face-down card, or skip`;
  }
  if (view.phase === 'lobby') return 'Waiting for the host to start';
  if (view.phase === 'initial_flip') return 'Waiting for everyone to flip…';
  if (view.phase === 'round_over') {
    // The status names the hole's winner (the line under it already says the hole is over).
    const best = Math.min(...view.players.map((p) => p.round_score ?? Infinity));
    const leaders = view.players.filter((p) => p.round_score === best).map((p) => p.name);
    return leaders.length ? `Hole ${view.round}: ${leaders.join(' and ')} ${leaders.length > 1 ? 'share it' : 'wins it'} with ${best}` : `Hole ${view.round} is over`;
  }
  if (view.phase === 'game_over') {
    const winners = view.players.filter((p) => view.winner_ids.includes(p.id)).map((p) => p.name);
    return winners.length ? `Game over: ${winners.join(' and ')} ${winners.length > 1 ? 'win' : 'wins'}` : 'Game over';
  }
  const holding = view.drawn_from ? ` (holding a card from the ${view.drawn_from === 'deck' ? 'deck' : 'discard pile'})` : '';
  const final = view.finisher_id ? ' · final turns' : '';
  return current ? `${current.name}’s turn${holding}${final}` : '';
}

export function statusHtml(view: View, selected: number, lastLine: string | null): string {
  return `<div class="status-box" data-key="status-box">
    <p class="status ${view.must ? 'act' : ''} ${isLastTurn(view) ? 'last' : ''}" data-testid="status">${esc(statusText(view, selected))}</p>
    <p class="happened" data-testid="happened">${lastLine ? esc(lastLine) : '&nbsp;'}</p>
  </div>`;
}

/**
 * What the live region says after an update: your turn and what to do, the card you drew,
 * what others did, results. Null when nothing is worth announcing.
 */
export function announcement(prev: View | null, view: View, happened: string | null, selected: number): string | null {
  const parts: string[] = [];
  if (happened) parts.push(happened);
  if (view.must && (view.must !== prev?.must || view.drawn_card?.rank !== prev?.drawn_card?.rank)) parts.push(statusText(view, selected));
  if (view.phase === 'round_over' && prev?.phase !== 'round_over') {
    const scores = [...view.players].sort((a, b) => (a.round_score ?? 0) - (b.round_score ?? 0)).map((p) => `${p.name} ${p.round_score}`);
    parts.push(`Scores for hole ${view.round}: ${scores.join(', ')}`);
  }
  if (view.phase === 'game_over' && prev?.phase !== 'game_over') {
    const winners = view.players.filter((p) => view.winner_ids.includes(p.id)).map((p) => p.name);
    parts.push(`${winners.join(' and ')} ${winners.length > 1 ? 'win' : 'wins'} the game`);
  }
  return parts.length ? parts.join('. ') : null;
}
