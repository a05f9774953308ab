import { describe, expect, it } from 'vitest';
import { HANDOVER_WAIT_MS, Handovers } from '../../src/runtime/handovers.js';

describe('Handovers: a drained node’s rooms', () => {
  it('are on their way to their named adopters for HANDOVER_WAIT_MS after the departure, then anyone’s', () => {
    const handovers = new Handovers();
    expect(handovers.handingOver('n1', 1000)).toBe(false);
    handovers.drainedAt('n1', 1000);
    expect(handovers.handingOver('n1', 1000 + HANDOVER_WAIT_MS - 1)).toBe(true);
    expect(handovers.handingOver('n2', 1001)).toBe(false);
    expect(handovers.handingOver('n1', 1000 + HANDOVER_WAIT_MS)).toBe(false);
  });
});
