// The fault-injection suite (npm run test:faults): kills, restarts, fuzzing and drills under load. Long and heavy, so
// kept out of `npm test`; .ci/run runs it after the main suite. One file at a time: each loads the machine itself.
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    pool: 'forks',
    include: ['test/faults/**/*.test.ts'],
    setupFiles: ['test/setup.ts', 'test/setup-temp-dirs.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results-faults.json' }]] : ['default'],
  },
});
