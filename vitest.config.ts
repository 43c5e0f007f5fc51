// Test runner settings. Forks, not threads: the Temporal native bridge is unsafe in worker threads.
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Workers in the test processes run as `npm start` runs them (no workflow stack traces): ENGINE_NODE_FLAGS of
    // src/engine-node-flags.ts, spelled out because the config loader takes no extensionless TypeScript import.
    execArgv: ['--require', path.resolve(import.meta.dirname, 'src/workflow-threads.cjs')],
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // The fault suite has its own config (test/faults/vitest.config.ts, npm run test:faults).
    exclude: ['test/faults/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Servers and workers are heavy on two cores: run at most two files at once.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
