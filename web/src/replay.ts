/**
 * The replay page (`?replay=ID`): a finished game's events from `GET /api/replays/{id}`, folded
 * into frames (replay-frames.ts), shown with play, pause, step and a scrubber.
 */
import type { GameEvent } from '../../src/game/types.js';
import { foldFrames, type ReplayFrame } from './replay-frames.js';
import { patch } from './render.js';
import { replayHtml } from './screens/replay.js';

const SPEEDS = [1500, 700, 250];

/** Runs the replay page in `app`: loads the game, then plays it on the reader's command. */
export async function startReplay(app: HTMLElement, replayId: string): Promise<void> {
  document.body.dataset.phase = 'replay';
  patch(app, replayHtml(null, { index: 0, playing: false, speed: 1, error: null, loading: true }));
  let frames: ReplayFrame[] = [];
  try {
    const res = await fetch(`/api/replays/${encodeURIComponent(replayId)}`);
    if (res.status === 404) throw new Error('There is no finished game at this link: a game can be replayed once it is over.');
    if (res.status === 413) throw new Error('This game is too long to be replayed here.');
    if (!res.ok) throw new Error('The replay cannot be loaded right now; try again in a moment.');
    const body = (await res.json()) as { events: Array<{ type: string; player_id: string | null; data: unknown }> };
    frames = foldFrames(body.events.map((e) => ({ type: e.type, player_id: e.player_id, data: e.data }) as GameEvent));
  } catch (error) {
    patch(app, replayHtml(null, { index: 0, playing: false, speed: 1, error: (error as Error).message, loading: false }));
    return;
  }
  // Start where the game starts (after the lobby), a move at a time from there.
  let index = Math.max(0, frames.findIndex((f) => f.view.phase !== 'lobby'));
  let playing = false;
  let speed = 1;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const last = frames.length - 1;

  const render = () => {
    document.body.dataset.replayIndex = String(index);
    document.body.dataset.replayPlaying = String(playing);
    patch(app, replayHtml(frames, { index, playing, speed, error: null, loading: false }));
  };
  const stop = () => {
    playing = false;
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const tick = () => {
    if (!playing) return;
    if (index >= last) {
      stop();
      render();
      return;
    }
    index += 1;
    render();
    timer = setTimeout(tick, SPEEDS[speed]);
  };
  const go = (to: number) => {
    index = Math.max(0, Math.min(last, to));
    render();
  };

  app.addEventListener('click', (event) => {
    const action = (event.target as HTMLElement).closest<HTMLElement>('[data-action]')?.dataset.action;
    switch (action) {
      case 'replay-play':
        if (playing) stop();
        else {
          if (index >= last) index = 0;
          playing = true;
          timer = setTimeout(tick, SPEEDS[speed]);
        }
        return render();
      case 'replay-back':
        stop();
        return go(index - 1);
      case 'replay-step':
        stop();
        return go(index + 1);
      case 'replay-first':
        stop();
        return go(0);
      case 'replay-last':
        stop();
        return go(last);
      case 'replay-speed':
        speed = (speed + 1) % SPEEDS.length;
        return render();
    }
  });
  app.addEventListener('input', (event) => {
    const target = event.target as HTMLInputElement;
    if (target.dataset.action !== 'replay-scrub') return;
    stop();
    go(Number(target.value));
  });
  app.addEventListener('keydown', (event) => {
    if ((event.target as HTMLElement).tagName === 'INPUT') return;
    if (event.key === 'ArrowRight') go(index + 1);
    if (event.key === 'ArrowLeft') go(index - 1);
  });
  render();
}
