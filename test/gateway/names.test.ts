import { describe, expect, it, vi } from 'vitest';
import { normalizeName } from '../../src/gateway/protocol.js';

const ok = (raw: string) => {
  const checked = normalizeName(raw);
  if (!checked.ok) throw new Error(`${JSON.stringify(raw)} refused: ${checked.message}`);
  return checked.name;
};
const refused = (raw: string) => {
  const checked = normalizeName(raw);
  return checked.ok ? `accepted as ${JSON.stringify(checked.name)}` : checked.message;
};

describe('normalizeName', () => {
  it('keeps ordinary names in every script, NFC-normalised and trimmed', () => {
    expect(ok('  Ann  ')).toBe('Ann');
    expect(ok('Rene\u0301')).toBe('Ren\u00e9');
    expect(ok('Ren\u00e9')).toBe(ok('Rene\u0301'));
    for (const name of ['Zoë', 'Åsa Öberg', '李小龙', 'Владимир', 'محمد', 'שרה', 'नमस्ते', 'สมชาย', '김민준', 'O’Brien', 'x_X', '🙂', '♠ Ace ♠', '42', '...']) expect(ok(name)).toBe(name.normalize('NFC'));
    expect(ok('a'.repeat(24))).toHaveLength(24);
    // Length counts code points, not UTF-16 units: 24 astral characters are fine.
    expect([...ok('🂡'.repeat(24))]).toHaveLength(24);
  });

  it('refuses empty and long names (code points, after normalising)', () => {
    expect(refused('')).toMatch(/1 to 24/);
    expect(refused('    ')).toMatch(/1 to 24/);
    expect(refused('a'.repeat(25))).toMatch(/1 to 24/);
    expect(refused('🂡'.repeat(25))).toMatch(/1 to 24/);
  });

  it('refuses control, format, separator, private-use, unassigned and surrogate code points', () => {
    for (const c of ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\u2066', '\u061c', '\ue000', '\u{f0000}', '\u0378', '\ud800', '\udfff', '\u00a0', '\u3000', '\t']) {
      expect(refused(`A${c}B`), `U+${c.codePointAt(0)!.toString(16)}`).toMatch(/invisible or control/);
    }
  });

  it('refuses default-ignorable and blank-looking code points', () => {
    const invisible = [
      ...['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2060', '\u2061', '\u2064', '\u206f', '\ufeff', '\u00ad', '\u034f'],
      ...['\u115f', '\u1160', '\u3164', '\uffa0', '\u2800', '\ufe00', '\ufe0f', '\u{e0100}', '\u{e01ef}', '\u{e0001}', '\u{e0041}', '\u{e007f}'],
      ...['\u180b', '\u180c', '\u180d', '\u180e', '\u180f', '\u17b4', '\u17b5'],
    ];
    for (const c of invisible) expect(refused(`A${c}B`), `U+${c.codePointAt(0)!.toString(16)}`).toMatch(/invisible or control/);
    // A name made only of fillers is refused too (they are letters by category).
    expect(refused('\u3164\u3164')).toMatch(/invisible/);
  });

  it('limits combining marks: 2 in a row, 8 in all, none first', () => {
    expect(ok('q\u0300\u0301')).toBe('q\u0300\u0301');
    expect(refused('q\u0300\u0301\u0302')).toMatch(/stack more than 2/);
    expect(refused('Z\u0336a\u0336l\u0336g\u0336o\u0336 \u0336t\u0336e\u0336x\u0336t')).toMatch(/more than 8/);
    expect(refused('\u0301abc')).toMatch(/start with a combining mark/);
  });

  it('needs something visible', () => {
    expect(ok('-')).toBe('-');
    expect(refused('\u2800')).toMatch(/invisible/);
  });

  it('refuses an over-long name by its raw length, before normalising it (thousands of marks take quadratic time)', () => {
    const spy = vi.spyOn(String.prototype, 'normalize');
    try {
      expect(refused(`a${'\u0301'.repeat(4000)}${'\u0316'.repeat(4000)}`)).toMatch(/1 to 24 characters/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('counts the marks a precomposed letter carries, and refuses blank symbols', () => {
    // U+1F8F (Greek capital alpha with dasia, perispomeni and ypogegrammeni) carries three marks.
    expect(refused('\u1F8F\u0301\u0301')).toMatch(/stack more than 2/);
    expect(refused('A\u0301\u0301\u0301')).toMatch(/stack more than 2/);
    expect(refused('\u{1D159}')).toMatch(/invisible/);
  });
});
