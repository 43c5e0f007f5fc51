// A replay thread's entry point: loads the TypeScript sources through tsx (a new thread starts without the caller's
// loader), then runs src/drills/replay-thread.ts.
import { register } from 'tsx/esm/api';

register();
await import('./replay-thread.ts');
