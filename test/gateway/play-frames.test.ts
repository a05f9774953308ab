import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientMessageSchema, isValidId, parseClientFrame } from '../../src/gateway/protocol.js';
import { playMessage } from '../../src/gateway/play-frames.js';

describe('frames of play without zod', () => {
  it('parse exactly as the schema does: the same message (unknown fields dropped), the same id, or a refusal', () => {
    const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), fc.string({ maxLength: 3 }), fc.integer({ min: -2, max: 7 }), fc.double(), fc.constant('3'), fc.array(fc.integer(), { maxLength: 2 }));
    const frame = fc.record(
      {
        type: fc.oneof(
          fc.constantFrom('draw', 'swap', 'discard', 'flip', 'skip_flip', 'flip_action', 'knock_early', 'next_round', 'next_game', 'leave', 'sync', 'ping', 'start_game', 'hello', 'join_room', '__proto__', 'toString'),
          anything,
        ),
        position: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant(2.5), fc.constant(-0), anything),
        source: fc.oneof(fc.constantFrom('deck', 'discard', 'Deck'), anything),
        id: fc.oneof(fc.constant(undefined), fc.string({ minLength: 0, maxLength: 70 }), fc.constant('é'), fc.integer()),
        extra: anything,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(frame, (data) => {
        const parsed = parseClientFrame(Buffer.from(JSON.stringify(data)));
        const sent = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
        const schema = clientMessageSchema.safeParse(sent);
        const validEnvelope = typeof sent.type === 'string' && (sent.id === undefined || isValidId(sent.id));
        expect(parsed.ok).toBe(validEnvelope && schema.success);
        if (parsed.ok) {
          expect(parsed.message).toStrictEqual(schema.data);
          expect(parsed.id).toBe(sent.id);
        }
        // The fast path never accepts what the schema refuses.
        const quick = playMessage(sent);
        if (quick) expect(quick).toStrictEqual(schema.data);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the frames of play (a draw with an id, a swap at 5, a discard)', () => {
    expect(playMessage({ type: 'draw', source: 'deck', id: 'a' })).toStrictEqual({ type: 'draw', source: 'deck' });
    expect(playMessage({ type: 'swap', position: 5 })).toStrictEqual({ type: 'swap', position: 5 });
    expect(playMessage({ type: 'swap', position: 6 })).toBeUndefined();
    expect(playMessage({ type: 'discard', junk: 1 })).toStrictEqual({ type: 'discard' });
  });
});
