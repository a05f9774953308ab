import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../web/src/reconnect-delay.js';

describe('reconnectDelay (web client and bots)', () => {
  it('tries the first time within 250 ms, then backs off to at most 8 s', () => {
    expect(reconnectDelay(1, () => 0)).toBe(0);
    expect(reconnectDelay(1, () => 0.999)).toBeLessThan(250);
    expect(reconnectDelay(2, () => 0)).toBe(250);
    expect(reconnectDelay(2, () => 0.999)).toBeLessThan(750);
    expect(reconnectDelay(3, () => 0.5)).toBe(1000);
    for (let attempt = 4; attempt < 40; attempt++) {
      expect(reconnectDelay(attempt, () => 0.999)).toBeLessThanOrEqual(8000);
      expect(reconnectDelay(attempt, () => 0)).toBeGreaterThanOrEqual(reconnectDelay(attempt - 1, () => 0));
    }
  });
});
