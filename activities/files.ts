// Small file-system helpers the activities share: an errno code read safely, and "read it if it is there".
import { readFile } from 'node:fs/promises';

/** The errno code of a file-system error (`ENOENT`, `EXDEV`...), or undefined. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The file's text, or undefined when it does not exist; any other failure is thrown. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
