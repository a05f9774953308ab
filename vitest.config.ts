import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PostgreSQL and Redis for the run: the URLs given, the local servers, or fallbacks it starts.
    globalSetup: ['test/support/global-setup.ts'],
    // Every final view a test client gets is checked against its replay (issue 13).
    setupFiles: ['test/support/replay-audit-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report gives .ci/run its totals; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
