import { describe, expect, it } from 'vitest';
import { Arrivals } from '../../src/runtime/arrivals.js';

describe('Arrivals', () => {
  it('a waiter goes on at its room’s news, long before its delay', async () => {
    const arrivals = new Arrivals();
    const started = performance.now();
    const waiting = arrivals.wait('ABCD', 5000);
    setTimeout(() => arrivals.arrived(['ABCD']), 20);
    await waiting;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(arrivals.size).toBe(0);
  });

  it('another room’s news does not wake it; without news it goes on after its delay', async () => {
    const arrivals = new Arrivals();
    let done = false;
    const waiting = arrivals.wait('ABCD', 80).then(() => (done = true));
    arrivals.arrived(['WXYZ']);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    await waiting;
    expect(done).toBe(true);
    expect(arrivals.size).toBe(0);
  });

  it('wakes every waiter of the room at once', async () => {
    const arrivals = new Arrivals();
    const all = Promise.all([arrivals.wait('ABCD', 5000), arrivals.wait('ABCD', 5000)]);
    expect(arrivals.size).toBe(2);
    arrivals.arrived(['ABCD', 'ABCD']);
    await all;
    expect(arrivals.size).toBe(0);
  });
});

describe('Arrivals: a drained node’s rooms', () => {
  it('are on their way to their named adopters for HANDOVER_WAIT_MS after the departure, then anyone’s', async () => {
    const { HANDOVER_WAIT_MS } = await import('../../src/runtime/arrivals.js');
    const arrivals = new Arrivals();
    expect(arrivals.handingOver('n1', 1000)).toBe(false);
    arrivals.drainedAt('n1', 1000);
    expect(arrivals.handingOver('n1', 1000 + HANDOVER_WAIT_MS - 1)).toBe(true);
    expect(arrivals.handingOver('n2', 1001)).toBe(false);
    expect(arrivals.handingOver('n1', 1000 + HANDOVER_WAIT_MS)).toBe(false);
  });
});
