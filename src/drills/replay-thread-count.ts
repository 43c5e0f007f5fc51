// How many threads one replay runs (src/drills/replay-pool.ts): one per core by default, bounded. Kept apart from the
// replay itself so that the CLI can bound `--threads` without loading the SDK.
import os from 'node:os';

/**
 * The most threads one replay runs by default: each replay thread holds its own Temporal runtime and a copy of the
 * workflow code (three threads took the process 259 MB more once started, 560 MB after a batch of 248 histories), and
 * a container limited to a few CPUs by quota can still see every core of its host.
 */
export const DEFAULT_MAX_REPLAY_THREADS = 8;
/** The most threads a caller may ask for. */
export const MAX_REPLAY_THREADS = 32;

/** One per core, at most DEFAULT_MAX_REPLAY_THREADS. */
export function defaultReplayThreads(): number {
  return Math.min(os.availableParallelism(), DEFAULT_MAX_REPLAY_THREADS);
}

/** A thread count from 1 to MAX_REPLAY_THREADS; refuses anything else, naming it. */
export function checkReplayThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_REPLAY_THREADS) {
    throw new RangeError(`threads: expected a whole number from 1 to ${MAX_REPLAY_THREADS}, got ${threads}`);
  }
  return threads;
}
