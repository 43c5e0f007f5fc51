// Test runner settings. Forks, not threads: the Temporal native bridge is unsafe in worker threads.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts', 'test/setup-temp-dirs.ts'],
    // The fault suite has its own config (test/faults/vitest.config.ts, npm run test:faults).
    exclude: ['test/faults/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Servers and workers are heavy on two cores: run at most two files at once.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
