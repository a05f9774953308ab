import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/runtime/json-diff.js';

describe('json diff', () => {
  it('its operations turn the first document into the second (RFC 6902, as fast-json-patch applies them)', () => {
    // Documents of one shape with random values, and of random shapes (keys with / and ~ too).
    const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 4 }));
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f'), tie('v'), { maxKeys: 3 })),
    })).v;
    const doc = fc.dictionary(fc.constantFrom('x', 'y', 'z'), value, { minKeys: 3, maxKeys: 3 });
    fc.assert(
      fc.property(doc, doc, (a, b) => {
        const keyed = (d: Record<string, unknown>) => ({ x: d.x, y: d.y, z: d.z });
        const [from, to] = [keyed(a), keyed(b)];
        const ops = diff(from, to);
        // A member is set with add (on a member that is there: RFC 6902 replaces its value), an
        // array element with replace (add would insert): nothing is created or shifted.
        for (const op of ops) {
          const parent = op.path.split('/').slice(1, -1).reduce<any>((n, k) => n[k.replace(/~1/g, '/').replace(/~0/g, '~')], from);
          const key = op.path.split('/').at(-1)!.replace(/~1/g, '/').replace(/~0/g, '~');
          expect(op.op).toBe(Array.isArray(parent) ? 'replace' : 'add');
          expect(Object.hasOwn(parent, key)).toBe(true);
        }
        expect(jsonPatch.applyPatch(structuredClone(from), ops, true, true).newDocument).toEqual(to);
        if (JSON.stringify(from) === JSON.stringify(to)) expect(ops).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('replaces a changed card whole, in one operation; a changed member is set with add, the shorter op', () => {
    const before = { players: [{ cards: [{ face_up: false, deck: 0 }, { face_up: false, deck: 1 }] }], turn: 1, discard_top: null };
    const after = { players: [{ cards: [{ face_up: false, deck: 0 }, { rank: '7', suit: 'clubs', deck: 1, face_up: true }] }], turn: 2, discard_top: { rank: '7', suit: 'clubs', deck: 0 } };
    expect(diff(before, after)).toEqual([
      { op: 'replace', path: '/players/0/cards/1', value: { rank: '7', suit: 'clubs', deck: 1, face_up: true } },
      { op: 'add', path: '/turn', value: 2 },
      { op: 'add', path: '/discard_top', value: { rank: '7', suit: 'clubs', deck: 0 } },
    ]);
    // A strict RFC 6902 application (validated) gives the same document.
    expect(jsonPatch.applyPatch(structuredClone(before), diff(before, after), true, false).newDocument).toEqual(after);
  });
});
