import { z } from 'zod';
import { partialOptionsSchema } from '../game/options.js';
import type { GameView } from '../game/view.js';
import type { ErrorCode } from '../runtime/room-actor.js';
import { normalizeName } from './names.js';
import { playMessage } from './play-frames.js';

export { normalizeName } from './names.js';

/** Frames over this size are refused unread (PROTOCOL.md): ws closes with 1009 above it. */
export const MAX_FRAME_BYTES = 16 * 1024;

/**
 * Command ids: 1 to 64 printable ASCII characters. They are stored with the events (a NUL or
 * a lone surrogate would make PostgreSQL refuse the whole group-committed batch) and echoed.
 */
const ID = /^[\x20-\x7E]{1,64}$/;
const ID_RULE = 'id must be 1 to 64 printable ASCII characters';

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** Identifiers the server made (player ids, CPU names, tokens): printable ASCII only. */
const ascii = (max: number) => z.string().regex(new RegExp(`^[\\x21-\\x7E]{1,${max}}$`), `must be 1 to ${max} printable ASCII characters`);

const name = z.string().transform((value, ctx) => {
  const checked = normalizeName(value);
  if (checked.ok) return checked.name;
  ctx.addIssue({ code: 'custom', message: checked.message });
  return z.NEVER;
});
const room = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{4}$/, 'room must be a 4-letter code')
  .transform((code) => code.toUpperCase());
const position = z.number().int().min(0).max(5);

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('create_room'), name, options: partialOptionsSchema.optional() }),
  z.object({ type: z.literal('join_room'), room, name }),
  z.object({ type: z.literal('resume'), token: ascii(200) }),
  z.object({ type: z.literal('add_cpu'), profile: ascii(24).optional() }),
  z.object({ type: z.literal('remove_player'), player_id: ascii(64) }),
  z.object({ type: z.literal('set_options'), options: partialOptionsSchema }),
  z.object({ type: z.literal('start_game') }),
  z.object({ type: z.literal('flip_initial'), positions: z.array(position).max(6) }),
  z.object({ type: z.literal('draw'), source: z.enum(['deck', 'discard']) }),
  z.object({ type: z.literal('swap'), position }),
  z.object({ type: z.literal('discard') }),
  z.object({ type: z.literal('flip'), position }),
  z.object({ type: z.literal('skip_flip') }),
  z.object({ type: z.literal('flip_action'), position }),
  z.object({ type: z.literal('knock_early') }),
  z.object({ type: z.literal('next_round') }),
  z.object({ type: z.literal('next_game') }),
  z.object({ type: z.literal('leave') }),
  z.object({ type: z.literal('watch'), room }),
  // What the client takes besides `state` frames (PROTOCOL.md, "Patches"); unknown names are ignored.
  z.object({ type: z.literal('hello'), accept: z.array(z.string().max(32)).max(16) }),
  z.object({ type: z.literal('sync') }),
  // A liveness probe, answered with an `ack` by the gateway alone (no room, no store): a client
  // that hears nothing for a while asks, and a node that does not answer is hung (README, "A
  // hung node's players").
  z.object({ type: z.literal('ping') }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;

const envelopeSchema = z.object({ type: z.string(), id: z.string().regex(ID, ID_RULE).optional() });

export const CLIENT_TYPES = clientMessageSchema.options.map((option) => option.shape.type.value);

/** Frame kinds a client may ask for with `hello` (besides `state`, which every client gets). */
export const FRAME_KINDS = ['patch'] as const;

export type ServerMessage =
  /** `player_id` and `token` are null for a spectator (PROTOCOL.md "Spectators"). */
  | { type: 'welcome'; room: string; player_id: string | null; token: string | null; seq: number; rev: number; state: GameView }
  | { type: 'state'; seq: number; rev: number; state: GameView }
  | { type: 'hello'; accept: string[] }
  | { type: 'ack'; id?: string; seq: number }
  | { type: 'error'; id?: string; code: ErrorCode; message: string }
  /**
   * `overlap` (optional, README "Drain"): this socket stays served (answers, views) until the
   * client closes it: it opens another, resumes there, then closes this one.
   */
  | { type: 'reconnect'; reason: string; overlap?: true };

/**
 * The codes whose messages are refusals written for players (by the rules, the room and the
 * gateway). Anything else is an internal failure (`unavailable`: a store down, a peer that
 * did not answer, a room moving): its own text may name nodes or carry a driver's error, so
 * the client gets a fixed one and the details stay in the logs.
 */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'bad_request',
  'unknown_room',
  'room_full',
  'game_in_progress',
  'not_host',
  'not_your_turn',
  'invalid_move',
  'unauthorized',
  'rate_limited',
]);
export const UNAVAILABLE_MESSAGE = 'the server cannot do this right now; try again';

/**
 * A refusal in doubt (the store or the room's node did not confirm the command: it may have
 * been applied): not "nothing changed", and a retry with the same id is the safe way to know.
 */
export const IN_DOUBT_MESSAGE = 'the server could not confirm this, so whether it was applied is unknown; retrying with the same id is safe (a command is applied at most once)';

/** What a client is told for a refusal of `code` whose internal text is `message`. */
export function publicMessage(code: ErrorCode, message: string, inDoubt = false): string {
  if (inDoubt) return IN_DOUBT_MESSAGE;
  return REFUSALS.has(code) ? message : UNAVAILABLE_MESSAGE;
}

export type Parsed = { ok: true; id: string | undefined; message: ClientMessage } | { ok: false; id: string | undefined; message: string };

/** No message nests deeper than this (an object of options is two levels). */
const MAX_DEPTH = 8;

/**
 * Whether a frame nests objects and arrays deeper than any message does, by one pass over its
 * bytes. JSON.parse time grows faster than the size for deep nesting (16 KiB of brackets:
 * 0.6 ms, a hundred times a flat frame's), so such frames are refused before parsing.
 */
function tooDeep(frame: Buffer): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < frame.length; i++) {
    const byte = frame[i];
    if (inString) {
      if (byte === 0x5c) i++; // a backslash escapes the next byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > MAX_DEPTH) return true;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return false;
}

/** The frame as JSON, or why it is not looked at (size and depth come before parsing). */
function decode(frame: Buffer): { ok: true; data: unknown } | { ok: false; message: string } {
  if (frame.length > MAX_FRAME_BYTES) return { ok: false, message: `frame over ${MAX_FRAME_BYTES} bytes` };
  if (tooDeep(frame)) return { ok: false, message: `nested deeper than ${MAX_DEPTH} levels` };
  try {
    return { ok: true, data: JSON.parse(frame.toString('utf8')) };
  } catch {
    return { ok: false, message: 'not JSON' };
  }
}

/** The `id` of a parsed frame, only if it is valid (an invalid one is never echoed). */
function idOf(data: unknown): string | undefined {
  const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
  return isValidId(id) ? id : undefined;
}

/** The valid `id` of a frame that is refused unparsed otherwise (over the rate). */
export function frameId(frame: Buffer): string | undefined {
  const decoded = decode(frame);
  return decoded.ok ? idOf(decoded.data) : undefined;
}

/** Parses one text frame: size and depth, JSON, the envelope (`type`, optional `id`), the message. */
export function parseClientFrame(frame: Buffer): Parsed {
  const decoded = decode(frame);
  if (!decoded.ok) return { ok: false, id: undefined, message: decoded.message };
  const data = decoded.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, id: undefined, message: 'a message is a JSON object' };
  const id = idOf(data);
  // A valid `id` (or none) and a frame of play that fits its shape: no zod (see play-frames.ts).
  if (id !== undefined || (data as { id?: unknown }).id === undefined) {
    const message = playMessage(data as Record<string, unknown>);
    if (message) return { ok: true, id, message };
  }
  const envelope = envelopeSchema.safeParse(data);
  if (!envelope.success) return { ok: false, id, message: describe(envelope.error) };
  if (!(CLIENT_TYPES as string[]).includes(envelope.data.type)) return { ok: false, id, message: `unknown type ${JSON.stringify(envelope.data.type).slice(0, 40)}` };
  const parsed = clientMessageSchema.safeParse(data);
  if (!parsed.success) return { ok: false, id, message: describe(parsed.error) };
  return { ok: true, id: envelope.data.id, message: parsed.data };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed message';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
