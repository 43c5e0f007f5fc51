// Temporary directories for tests, removed when the test file ends (test/setup-temp-dirs.ts): runs do not fill /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created = new Set<string>();

/** A new empty directory under the system's temp dir, named `<prefix>-XXXXXX`; removed after the file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  created.add(dir);
  return dir;
}

/** Removes every directory tempDir made in this process (a process that still writes to one may leave a file). */
export function removeTempDirs(): void {
  for (const dir of created) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    created.delete(dir);
  }
}
