/** The page's reckoning of the server's clock from a `Date` header (pure). */
import { describe, expect, it } from 'vitest';
import { offsetFrom } from '../../web/src/server-clock.js';

describe('offsetFrom', () => {
  const at = Date.parse('2026-11-29T12:00:00Z');
  it('a device an hour fast is corrected to within a second', () => {
    const offset = offsetFrom(new Date(at).toUTCString(), at + 3_600_000 - 40, at + 3_600_000 + 40);
    expect(Math.abs(offset + 3_600_000)).toBeLessThanOrEqual(1000);
  });
  it('a device within the header\'s second is left alone; no header, no correction', () => {
    expect(offsetFrom(new Date(at).toUTCString(), at + 300, at + 500)).toBe(0);
    expect(offsetFrom(null, at, at)).toBe(0);
    expect(offsetFrom('not a date', at, at)).toBe(0);
  });
});
