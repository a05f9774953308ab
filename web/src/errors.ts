import type { ErrorField } from './store.js';

/**
 * A refusal as a person reads it, and the field it belongs next to (on the start screen).
 * The server's texts are written for developers ("room: room must be a 4-letter code").
 */
export function friendlyError(code: string, message: string, seat: 'join' | 'create' | null, typedCode: string): { message: string; field: ErrorField } {
  const text = String(message ?? '');
  const roomCode = typedCode.trim().toUpperCase();
  if (seat) {
    if (code === 'unknown_room') return { message: `There is no room ${roomCode}. Check the code with whoever invited you.`, field: 'code' };
    if (code === 'room_full') return { message: `Room ${roomCode} is full (6 players).`, field: 'code' };
    if (code === 'game_in_progress') return { message: `The game in room ${roomCode} has already started; ask for a new room.`, field: 'code' };
    if (/^room\b/.test(text)) return { message: 'A room code is 4 letters, like ABCD.', field: 'code' };
    if (/^name\b|the name .* is taken/.test(text)) return { message: sentence(text.replace(/^name:\s*/, '')), field: 'name' };
  }
  switch (code) {
    case 'rate_limited':
      return { message: 'That was a lot of clicks at once: wait a moment and try again.', field: null };
    case 'unavailable':
      return { message: 'The server could not do that just now. Try again in a moment.', field: null };
    case 'not_your_turn':
      return { message: 'It is not your turn yet.', field: null };
    case 'unauthorized':
      return { message: 'This seat is no longer yours (you left, or the game ended). Start again from the home screen.', field: null };
    default:
      return { message: sentence(text.replace(/^[a-z_]+:\s*/, '')), field: null };
  }
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return 'Something went wrong. Try again.';
  return t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}
