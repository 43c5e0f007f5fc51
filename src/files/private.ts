// Private files for the engine's data: directories 0700 and files 0600, whatever the process umask, and a scan that
// finds files and directories others can read, for the warning `npm start` prints. Data here (keys, evidence,
// notifications, the Temporal database) is sensitive during the very incidents it records.
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Writes `file` atomically (temp file and rename) with mode 0600; its directory is created private. */
export function writePrivateFile(file: string, data: string | Uint8Array): void {
  ensurePrivateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(tmp, PRIVATE_FILE_MODE);
  renameSync(tmp, file);
}

/** Appends to `file`, creating it 0600 (and its directory 0700) when missing. */
export function appendPrivateFile(file: string, data: string): void {
  if (!existsSync(file)) ensurePrivateDir(path.dirname(file));
  appendFileSync(file, data, { mode: PRIVATE_FILE_MODE });
}

export interface LooseMode {
  path: string;
  mode: number;
  expected: number;
}

/**
 * Files and directories under `root` (itself included) that group or others may read, write or enter. Symbolic links
 * are not followed. Stops after `limit` findings so a huge tree cannot stall startup.
 */
export function findLooseModes(root: string, limit = 50): LooseMode[] {
  const found: LooseMode[] = [];
  const visit = (entry: string): void => {
    if (found.length >= limit) return;
    let info;
    try {
      info = lstatSync(entry);
    } catch {
      return;
    }
    if (info.isSymbolicLink()) return;
    const mode = info.mode & 0o777;
    if (mode & 0o077)
      found.push({ path: entry, mode, expected: info.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE });
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(entry);
    } catch {
      return;
    }
    for (const name of names) visit(path.join(entry, name));
  };
  if (existsSync(root)) visit(root);
  return found;
}

/** One warning line per loose mode, e.g. `.data/evidence is 0755, expected 0700 (chmod 700 .data/evidence)`. */
export function looseModeWarnings(found: LooseMode[]): string[] {
  const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;
  return found.map(
    (f) => `${f.path} is ${octal(f.mode)}, expected ${octal(f.expected)} (chmod ${f.expected.toString(8)} ${f.path})`,
  );
}
