import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzNode } from '../support/fuzz.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';

let node: Awaited<ReturnType<typeof startTestNode>>;

beforeAll(async () => {
  // Nothing moves a room but the fuzzer's own frames: no CPU, no round timer, no grace expiry.
  node = await startTestNode(testConfig({ CPU_THINK_MS: '60000', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '3600000' }));
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

describe('fuzzing the gateway (a short run; scripts/fuzz-gateway.ts runs 100,000 frames)', () => {
  it('random and mutated frames: no crash, no unhandled rejection, every frame answered, no refused frame changes anything', async () => {
    const report = await fuzzNode(node, Number(process.env.FUZZ_FRAMES ?? 4000), Number(process.env.FUZZ_SEED ?? 1));
    console.info(`fuzz: ${JSON.stringify(report)}`);
    expect(report.uncaught).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.unanswered).toBe(0);
    expect(report.answered.error).toBeGreaterThan(report.frames / 2);
    expect(report.answered.ack).toBeGreaterThan(0);
    // The node still serves a well-behaved client afterwards.
    expect(node.runtime.isAccepting).toBe(true);
  });
});
