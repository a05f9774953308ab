/**
 * The frames of play (draw, swap, discard, flip...) validated without zod: they are nearly every
 * frame a server reads, zod's two passes over each (envelope, then the discriminated union)
 * were ~5% of a move's CPU, and their shapes are trivial. The result is exactly what
 * `clientMessageSchema` would give (unknown fields, `id` among them, dropped); anything that
 * does not fit these shapes gets `undefined` and goes to zod, which accepts it or words the
 * refusal (test/gateway/play-frames.test.ts compares the two).
 */
import type { ClientMessage } from './protocol.js';

/** Types with no fields. */
const BARE: ReadonlySet<unknown> = new Set(['start_game', 'discard', 'skip_flip', 'knock_early', 'next_round', 'next_game', 'leave', 'sync', 'ping']);
/** Types with one `position` (0..5). */
const POSITIONED: ReadonlySet<unknown> = new Set(['swap', 'flip', 'flip_action']);

/** The message of a frame of play whose fields are valid, else undefined (zod decides). */
export function playMessage(data: Record<string, unknown>): ClientMessage | undefined {
  const type = data.type;
  if (BARE.has(type)) return { type } as ClientMessage;
  if (POSITIONED.has(type)) {
    const position = data.position;
    return typeof position === 'number' && Number.isInteger(position) && position >= 0 && position <= 5 ? ({ type, position } as ClientMessage) : undefined;
  }
  if (type === 'draw') {
    const source = data.source;
    return source === 'deck' || source === 'discard' ? { type, source } : undefined;
  }
  return undefined;
}
