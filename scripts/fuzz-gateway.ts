/**
 * Fuzzes a node's gateway with random and mutated frames (see test/support/fuzz.ts): valid
 * shapes with wrong values, wrong types, deep nesting, odd Unicode, oversize and binary frames,
 * valid commands out of turn. The node runs in this process on the real Redis and PostgreSQL
 * (DATABASE_URL, REDIS_URL; a throwaway schema and key prefix), so the event-loop delay printed
 * includes the fuzzing client's own work: an upper bound for the node's. Usage:
 *   npx tsx scripts/fuzz-gateway.ts [--frames 100000] [--seed 1]
 * Exits 1 if any refused frame changed a room, a frame went unanswered, or anything was uncaught.
 */
import { parseArgs } from 'node:util';
import { fuzzNode } from '../test/support/fuzz.js';
import { cleanup, startTestNode, testConfig } from '../test/support/node.js';
import { progress, resultTable } from './lib/report.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
  },
});
const frames = Number(values.frames);
const node = await startTestNode(testConfig({ CPU_THINK_MS: '60000', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '3600000', LOG_LEVEL: 'silent' }));
let report;
const bar = progress('fuzzing the gateway', frames, 'frames');
try {
  report = await fuzzNode(node, frames, Number(values.seed), (done) => bar.update(done));
} finally {
  bar.stop();
  await node.drain();
  await cleanup(node.config);
}
const rows: Array<[string, string]> = [
  ['frames sent', String(report.frames)],
  ['answered ack / error / welcome', `${report.answered.ack} / ${report.answered.error} / ${report.answered.welcome}`],
  ['error codes', Object.entries(report.errorCodes).map(([k, v]) => `${k} ${v}`).join(', ')],
  ...Object.entries(report.errorSamples).map(([code, sample]): [string, string] => [`  e.g. ${code}`, sample.slice(0, 140)]),
  ['sockets closed by the server', Object.entries(report.closes).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'],
  ['unanswered on an open socket', String(report.unanswered)],
  ['refused frames that changed a room', String(report.violations.length)],
  ['uncaught exceptions / unhandled rejections', String(report.uncaught.length)],
  ['event-loop delay p50 / p99 / max (ms)', `${report.loopDelayMs.p50} / ${report.loopDelayMs.p99} / ${report.loopDelayMs.max}`],
  ['duration (s)', String(report.seconds)],
];
process.stdout.write(resultTable(['fuzzing', 'result'], rows));
for (const line of [...report.violations.slice(0, 10), ...report.uncaught.slice(0, 5)]) process.stdout.write(`  ${line}\n`);
process.exit(report.violations.length + report.uncaught.length + report.unanswered > 0 ? 1 : 0);
