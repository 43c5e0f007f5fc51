// How many threads a replay runs: one per core by default, at most 8; `drill replay --threads <n>` asks for another
// count from 1 to 32 and is refused (exit 2, naming the value) otherwise, before anything is loaded; with one thread
// every history replays in the calling thread.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_HISTORIES_FOR_THREADS, startReplayThreads } from '../../src/drills/replay';
import {
  DEFAULT_MAX_REPLAY_THREADS,
  MAX_REPLAY_THREADS,
  checkReplayThreads,
  defaultReplayThreads,
} from '../../src/drills/replay-thread-count';
import { runCli } from '../helpers/run-cli';

const HISTORIES = path.resolve(import.meta.dirname, '../replay/histories');

describe('the replay thread count', () => {
  it('defaults to one per core, at most DEFAULT_MAX_REPLAY_THREADS', () => {
    expect(defaultReplayThreads()).toBe(Math.min(os.availableParallelism(), DEFAULT_MAX_REPLAY_THREADS));
  });

  it('takes a whole number from 1 to MAX_REPLAY_THREADS', () => {
    expect(checkReplayThreads(1)).toBe(1);
    expect(checkReplayThreads(MAX_REPLAY_THREADS)).toBe(MAX_REPLAY_THREADS);
    for (const bad of [0, 1.5, MAX_REPLAY_THREADS + 1, Number.NaN, -1]) {
      expect(() => checkReplayThreads(bad), String(bad)).toThrow(
        `threads: expected a whole number from 1 to ${MAX_REPLAY_THREADS}, got ${bad}`,
      );
    }
  });

  it('is checked before any thread starts', () => {
    expect(() => startReplayThreads(MIN_HISTORIES_FOR_THREADS, 0)).toThrow('expected a whole number from 1 to 32');
    expect(startReplayThreads(MIN_HISTORIES_FOR_THREADS, 1)).toBeUndefined();
  });
});

describe('drill replay --threads', () => {
  it('refuses a count out of range, naming it, with the usage exit status', async () => {
    const run = await runCli(['drill', 'replay', '--threads', '64', HISTORIES]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "option '--threads <n>' argument '64' is invalid. expected a whole number from 1 to 32",
    );
    expect(run.stdout).toBe('');
  });

  it('replays every history in the calling thread with one', { timeout: 120_000 }, async () => {
    const run = await runCli(['--json', 'drill', 'replay', '--threads', '1', HISTORIES]);
    expect(run.code, run.stderr).toBe(0);
    const outcomes = JSON.parse(run.stdout) as { ok: boolean; thread: number }[];
    expect(outcomes.length).toBeGreaterThanOrEqual(MIN_HISTORIES_FOR_THREADS);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.thread))).toEqual(new Set([0]));
  });
});
