import { z } from 'zod';
import { partialOptionsSchema } from '../game/options.js';
import type { GameView } from '../game/view.js';
import type { ErrorCode } from '../runtime/room-actor.js';

/** Frames over this size get `bad_request` (PROTOCOL.md). */
export const MAX_FRAME_BYTES = 16 * 1024;

// Printable: letters, marks, numbers, punctuation, symbols and spaces; no control characters.
const name = z
  .string()
  .trim()
  .min(1, 'name must have 1 to 24 printable characters')
  .max(24, 'name must have 1 to 24 printable characters')
  .regex(/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u, 'name must have 1 to 24 printable characters');
const room = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{4}$/, 'room must be a 4-letter code')
  .transform((code) => code.toUpperCase());
const position = z.number().int().min(0).max(5);

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('create_room'), name, options: partialOptionsSchema.optional() }),
  z.object({ type: z.literal('join_room'), room, name }),
  z.object({ type: z.literal('resume'), token: z.string().min(1).max(200) }),
  z.object({ type: z.literal('add_cpu'), profile: z.string().min(1).max(24).optional() }),
  z.object({ type: z.literal('remove_player'), player_id: z.string().min(1).max(64) }),
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
  z.object({ type: z.literal('leave') }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;

const envelopeSchema = z.object({ type: z.string(), id: z.string().max(64).optional() });

export const CLIENT_TYPES = clientMessageSchema.options.map((option) => option.shape.type.value);

export type ServerMessage =
  | { type: 'welcome'; room: string; player_id: string; token: string; seq: number; state: GameView }
  | { type: 'state'; seq: number; state: GameView }
  | { type: 'ack'; id?: string; seq: number }
  | { type: 'error'; id?: string; code: ErrorCode; message: string }
  | { type: 'reconnect'; reason: string };

export type Parsed = { ok: true; id: string | undefined; message: ClientMessage } | { ok: false; id: string | undefined; message: string };

/** The `id` of a frame, if it has a usable one (to echo it in a refusal). */
export function frameId(text: string): string | undefined {
  if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES) return undefined;
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length <= 64 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Parses one text frame: JSON, an envelope (`type`, optional `id`), then the message. */
export function parseClientFrame(text: string): Parsed {
  const oversized = Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES;
  let data: unknown;
  try {
    // Parsed even when oversized (ws bounds frames at 1 MiB), only to echo the id.
    data = JSON.parse(text);
  } catch {
    return { ok: false, id: undefined, message: oversized ? `frame over ${MAX_FRAME_BYTES} bytes` : 'not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, id: undefined, message: 'a message is a JSON object' };
  const rawId = (data as { id?: unknown }).id;
  const id = typeof rawId === 'string' && rawId.length <= 64 ? rawId : undefined;
  if (oversized) return { ok: false, id, message: `frame over ${MAX_FRAME_BYTES} bytes` };
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
