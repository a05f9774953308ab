import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PostgreSQL and Redis for the run: the URLs given, the local servers, or fallbacks it starts.
    globalSetup: ['test/support/global-setup.ts'],
    // Every final view a test client gets is checked against its replay (issue 13).
    setupFiles: ['test/support/replay-audit-setup.ts'],
    // Two files at a time: most tests wait on real processes, leases and timers rather than
    // compute (a serial run kept the 2 cores ~25 % busy and took 15 min). Three took ~7.5 min
    // but loaded the VM enough for a lease to lapse in a timing-sensitive test now and then.
    // Each file isolates itself (key prefix, schema, free ports), so files may overlap.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report gives .ci/run its totals; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
