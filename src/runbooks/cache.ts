// The runbooks a long-running process (the API) opens incidents with: loaded once, and loaded again when a runbook
// file is added, removed or changed, so an edit needs no restart. A reload that fails keeps the last good set and
// reports the error once; it never serves a half-valid set.
import { statSync } from 'node:fs';
import type { RunbookPlan } from '../../domain/runbook';
import { DEFAULT_RUNBOOK_DIR, loadRunbooks, runbookFiles } from './load';

export interface RunbookCacheOptions {
  dir?: string;
  /** How often (ms) to look at the files at most. */
  recheckMs?: number;
  onError?: (error: Error) => void;
}

export function runbookCache(options: RunbookCacheOptions = {}): () => Map<string, RunbookPlan> {
  const dir = options.dir ?? DEFAULT_RUNBOOK_DIR;
  const recheckMs = options.recheckMs ?? 2_000;
  const fingerprint = () =>
    runbookFiles(dir)
      .map((file) => {
        const stat = statSync(file);
        return `${file}:${stat.mtimeMs}:${stat.size}`;
      })
      .join('\n');
  let seen = fingerprint();
  let plans = loadRunbooks(dir);
  let lastCheck = Date.now();
  let reported: string | undefined;
  return () => {
    const now = Date.now();
    if (now - lastCheck < recheckMs) return plans;
    lastCheck = now;
    try {
      const current = fingerprint();
      if (current === seen) return plans;
      plans = loadRunbooks(dir);
      seen = current;
      reported = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (reported !== message) options.onError?.(error as Error);
      reported = message;
    }
    return plans;
  };
}
