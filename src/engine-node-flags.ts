// The Node flags of a process that runs the engine's worker: `npm start` passes the same in package.json, and the
// vitest configs spell them out; the test and benchmark worker processes take them from here.
import { fileURLToPath } from 'node:url';

export const ENGINE_NODE_FLAGS: readonly string[] = [
  '--require',
  fileURLToPath(new URL('./workflow-threads.cjs', import.meta.url)),
];
