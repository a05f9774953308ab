import { spokenCards } from '../cards.js';
import { esc } from '../escape.js';
import type { ReplayFrame } from '../replay-frames.js';
import { tableHtml } from './table.js';

export interface ReplayProps {
  index: number;
  playing: boolean;
  /** Index into the replay's speeds (slow, normal, fast). */
  speed: number;
  error: string | null;
  loading: boolean;
}

const SPEED_NAMES = ['slow', 'normal', 'fast'];

/** The replay page: the controls (play, pause, step, scrubber) over the table as it was then. */
export function replayHtml(frames: ReplayFrame[] | null, p: ReplayProps): string {
  if (!frames) {
    return `<section class="home" data-key="screen-replay">
      <h1>Replay</h1>
      ${p.error ? `<p class="error" role="alert" data-testid="error">${esc(p.error)}</p>` : '<p class="hint">Loading the game…</p>'}
      <p><a href="./" data-testid="home-link">Back to the start</a></p>
    </section>`;
  }
  const frame = frames[p.index]!;
  const last = frames.length - 1;
  const controls = `
    <div class="replay-controls" role="group" aria-label="Replay controls" data-key="replay-controls">
      <button type="button" data-key="replay-first" data-action="replay-first" data-testid="replay-first" aria-label="First move" ${p.index === 0 ? 'aria-disabled="true"' : ''}>|◀</button>
      <button type="button" data-key="replay-back" data-action="replay-back" data-testid="replay-back" aria-label="Step back" ${p.index === 0 ? 'aria-disabled="true"' : ''}>◀</button>
      <button type="button" class="primary" data-key="replay-play" data-action="replay-play" data-testid="replay-play">${p.playing ? 'Pause' : 'Play'}</button>
      <button type="button" data-key="replay-step" data-action="replay-step" data-testid="replay-step" aria-label="Step forward" ${p.index === last ? 'aria-disabled="true"' : ''}>▶</button>
      <button type="button" data-key="replay-last" data-action="replay-last" data-testid="replay-last" aria-label="Last move" ${p.index === last ? 'aria-disabled="true"' : ''}>▶|</button>
      <button type="button" class="ghost" data-key="replay-speed" data-action="replay-speed" data-testid="replay-speed">Speed: ${SPEED_NAMES[p.speed]}</button>
      <label class="scrub">
        <span data-testid="replay-position">Move ${p.index + 1} of ${frames.length}</span>
        <input type="range" min="0" max="${last}" value="${p.index}" data-key="replay-scrub" data-action="replay-scrub" data-testid="scrubber" aria-label="Move ${p.index + 1} of ${frames.length}" />
      </label>
      <p class="replay-said" data-testid="replay-said" aria-hidden="true">${esc(frame.said)}</p>
      <p class="sr-only" data-key="replay-spoken" aria-live="polite">${esc(spokenCards(frame.said))}</p>
    </div>`;
  const table =
    frame.view.phase === 'lobby'
      ? `<section class="lobby" data-key="screen-table"><header class="bar"><h1>Room <span class="code">${esc(frame.view.room)}</span></h1></header>
          <ul class="players">${frame.view.players.map((pl) => `<li data-testid="lobby-player">${esc(pl.name)}</li>`).join('')}</ul></section>`
      : tableHtml(frame.view, {
          previous: p.index > 0 ? frames[p.index - 1]!.view : null,
          selected: [],
          enabled: false,
          happened: null,
          confirmLeave: false,
          heldFromDiscard: null,
          results: { countdown: null, host: false, enabled: false, nextGameAsked: false, readOnly: true },
          headerExtra: '<span class="badge spectator" data-testid="replay-badge">Replay · every hand shown</span><a class="ghost" href="./" data-testid="home-link">Back to the start</a>',
        });
  return `<div class="replay" data-key="screen-replay">${controls}${table}</div>`;
}
