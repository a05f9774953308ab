import { icons } from '../components/icons.js';
import { esc } from '../escape.js';
import type { View } from '../types.js';

export interface ResultsProps {
  /** Seconds until the next hole starts by itself (null: unknown). */
  countdown: number | null;
  host: boolean;
  enabled: boolean;
  /** The host asked for a new game and it has not come yet. */
  nextGameAsked: boolean;
  /** A replay's standings: nothing to do from them. */
  readOnly?: boolean;
}

function names(view: View, ids: string[]): string {
  const list = view.players.filter((p) => ids.includes(p.id)).map((p) => p.name);
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/**
 * The results of a hole or of the game, as a panel pinned to the bottom of the screen so it is
 * always in view: each hand's score for the hole, the winner, the countdown, the standings.
 */
export function resultsHtml(v: View, props: ResultsProps): string {
  const final = v.phase === 'game_over';
  const holeLow = Math.min(...v.players.map((p) => p.round_score ?? Infinity));
  const holeWinners = v.players.filter((p) => p.round_score === holeLow).map((p) => p.id);
  const winners = final ? v.winner_ids : holeWinners;
  const ordered = [...v.players].sort((a, b) => (final ? a.total_score - b.total_score : (a.round_score ?? 0) - (b.round_score ?? 0)));
  let rank = 0;
  const rows = ordered
    .map((p, i) => {
      if (i === 0 || (final ? p.total_score !== ordered[i - 1]!.total_score : p.round_score !== ordered[i - 1]!.round_score)) rank = i + 1;
      const win = winners.includes(p.id);
      return `<tr class="${win ? 'winner' : ''} ${p.id === v.you ? 'you' : ''}" data-testid="standing">
        <td>${rank}</td>
        <th scope="row"><span class="name" title="${esc(p.name)}">${esc(p.name)}</span>${p.id === v.you ? ' <span class="you-tag">(you)</span>' : ''}${win ? ` ${icons.trophy()}<span class="sr-only"> winner</span>` : ''}</th>
        <td>${p.round_score ?? '–'}</td><td><strong>${p.total_score}</strong></td><td>${p.rounds_won}</td></tr>`;
    })
    .join('');
  const headline = final
    ? `${icons.trophy()} ${esc(names(v, winners))} ${winners.length > 1 ? 'win' : 'wins'} the game!`
    : `${esc(names(v, winners))} ${winners.length > 1 ? 'win' : 'wins'} hole ${v.round} with ${holeLow}`;
  let footer = '';
  if (!final) {
    const when = props.countdown === null ? 'shortly' : `in <span data-testid="countdown">${props.countdown}</span> s`;
    footer = `<p class="countdown">Hole ${v.round + 1} of ${v.rounds} starts ${when}.</p>${
      props.host ? `<button type="button" class="primary" data-key="next-round" data-action="next-round" data-testid="next-round" ${props.enabled ? '' : 'aria-disabled="true"'}>Start it now</button>` : ''
    }`;
  }
  // A finished game's replay, for its players (the link can be shared: it is the only key).
  const replay = final && v.replay_id ? `<a class="button" href="?replay=${esc(v.replay_id)}" data-key="replay-link" data-testid="replay-link">Watch the replay</a>` : '';
  if (final && props.host) {
    footer = `<button type="button" class="primary" data-key="next-game" data-action="next-game" data-testid="next-game" ${props.enabled && !props.nextGameAsked ? '' : 'aria-disabled="true"'}>Play again (same table)</button>
      <button type="button" data-key="new-game" data-action="new-game" data-testid="new-game">Back to the start</button>
      ${props.nextGameAsked ? '<p class="hint">Starting a new game…</p>' : ''}${replay}`;
  } else if (final) {
    // A seated player is asked to stay for the host's next game; a spectator is told it will show.
    const stay = v.you ? 'Stay here: the host can start a new game at this table.' : 'If the host starts a new game at this table, it shows here.';
    footer = `<p class="hint">${stay}</p>
      <button type="button" data-key="new-game" data-action="new-game" data-testid="new-game">Back to the start</button>${replay}`;
  }
  if (props.readOnly) footer = '';
  return `<section class="results" data-key="results" data-testid="results" aria-labelledby="results-title">
    <h2 id="results-title">${final ? 'Final standings' : `Scores after hole ${v.round} of ${v.rounds}`}</h2>
    <p class="headline" data-testid="winner">${headline}</p>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">#</th><th scope="col">Player</th><th scope="col">Hole</th><th scope="col">Total</th><th scope="col">Holes won</th></tr></thead>
      <tbody>${rows}</tbody>
    </table></div>
    <div class="results-actions">${footer}</div>
  </section>`;
}
