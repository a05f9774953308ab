import type { ConnectionStatus, FaceUpCard, View } from './types.js';

/** Where an error belongs: next to a field of the start screen, or at the top of a screen. */
export type ErrorField = 'name' | 'code' | null;

/** Everything the screens render from: the server's view plus what is local to this page. */
export const ui = {
  view: null as View | null,
  previous: null as View | null,
  /** The room sequence of the view shown. */
  seq: 0,
  status: 'connecting' as ConnectionStatus,
  error: null as { message: string; field: ErrorField } | null,
  /** Initial flip: the positions chosen so far (only ever of your own grid). */
  selected: [] as number[],
  draftOptions: JSON.parse(localStorage.getItem('golf:options') ?? '{"rounds":9}') as Record<string, any>,
  /** What is typed on the start screen: kept across updates and errors. */
  name: localStorage.getItem('golf:name') ?? '',
  code: new URLSearchParams(location.search).get('room') ?? '',
  /** The latest "what just happened" lines, newest first. */
  log: [] as string[],
  confirmLeave: false,
  copy: 'idle' as 'idle' | 'copied' | 'manual',
  /** The host asked for a new game and it has not come yet. */
  nextGameAsked: false,
  /** The card the current player took from the discard pile (public) while they hold it: the view names only the pile's new top. */
  heldFromDiscard: null as FaceUpCard | null,
  /** The room watched as a spectator (`?watch=CODE` or the Watch button), or null. */
  watching: null as string | null,
};

export function isHost(view: View | null = ui.view): boolean {
  return !!view && view.you !== null && view.you === view.host_id;
}
