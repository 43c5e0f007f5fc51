// Local file quarantine (the Fiovana procedures: "Quarantine suspicious files"): `file.quarantine` moves a file into
// `<dataDir>/quarantine/<incidentId>/<stepId>/payload` next to a `record.json` (SHA-256, original path, size, mode,
// mtime), and `file.restore` puts it back after checking the hash. Both are recorded in the evidence ledger.
// Idempotent, because activities run at least once: the record is written before the move ("pending") and completed
// after it, so a retry after a crash at any point finishes the same move instead of failing or moving twice.
// Must never take a file from outside the configured roots, follow a symbolic link, overwrite a file on restore, or
// restore a payload whose hash no longer matches its record.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, realpath, rename, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, readTextIfExists } from '../files';
import type { ActionContext, Performers } from '../context';
import {
  InvalidActionInputError,
  QuarantineIntegrityError,
  QuarantineRefusedError,
  QuarantineSourceMissingError,
} from '../errors';
import { appendLedger, ledgerFile, withFileLock } from '../ledger';

export interface QuarantineRecord {
  formatVersion: 1;
  /** pending: written before the move; quarantined: payload in place and hashed; restored: moved back. */
  status: 'pending' | 'quarantined' | 'restored';
  incidentId: string;
  stepId: string;
  originalPath: string;
  /** File name of the payload in the record's directory. */
  payload: string;
  /** SHA-256 (hex) of the content; null while pending. */
  sha256: string | null;
  size: number;
  /** Permission bits (mode & 0o7777), and the same as octal text for people. */
  mode: number;
  modeOctal: string;
  mtime: string;
  mtimeMs: number;
  uid: number;
  gid: number;
  quarantinedAt: string | null;
  restoredAt?: string;
  /** The step that ran file.restore. */
  restoredBy?: string;
}

export interface QuarantineInput {
  incidentId: string;
  stepId: string;
  /** Absolute path of the file to quarantine. */
  path: string;
  dataDir: string;
  /** Absolute directories the file must lie under. Empty: every path is refused. */
  roots: string[];
  now: Date;
  idempotencyKey: string;
}

export interface QuarantineResult {
  stepId: string;
  originalPath: string;
  payload: string;
  record: string;
  sha256: string;
  size: number;
  /** True when an earlier attempt had already completed this quarantine. */
  reused: boolean;
}

export interface RestoreInput {
  incidentId: string;
  /** The file's original absolute path. */
  path: string;
  /** The step that quarantined it; found by path when absent. */
  step?: string;
  dataDir: string;
  roots: string[];
  now: Date;
  /** The step running the restore. */
  restoreStepId: string;
  idempotencyKey: string;
}

export interface RestoreResult {
  restored: string;
  fromStep: string;
  sha256: string;
  reused: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const RECORD = 'record.json';
const PAYLOAD = 'payload';

export function quarantineDir(dataDir: string, incidentId: string, stepId: string): string {
  return path.join(dataDir, 'quarantine', incidentId, stepId);
}

// ---------------------------------------------------------------------------------------------------------------
// Quarantine

export async function quarantineFile(input: QuarantineInput): Promise<QuarantineResult> {
  const incidentId = checkId('incidentId', input.incidentId);
  const stepId = checkId('stepId', input.stepId);
  const target = checkPath(input.path);
  const dir = quarantineDir(input.dataDir, incidentId, stepId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const where = `quarantine ${incidentId}/${stepId}`;

  return withFileLock(`${dir}.lock`, async () => {
    const payload = path.join(dir, PAYLOAD);
    let record = await readRecord(dir);
    if (record && record.originalPath !== target) {
      throw new QuarantineRefusedError(
        `${where}: expected this step to quarantine ${record.originalPath} as its record says, received ${target}; nothing moved`,
      );
    }
    if (record?.status === 'restored') {
      throw new QuarantineRefusedError(
        `${where}: ${target} was already quarantined by this step and restored at ${record.restoredAt ?? '?'}; quarantine it again from a new step`,
      );
    }
    if (record?.status === 'quarantined') {
      const actual = await hashOrMissing(payload);
      if (actual !== record.sha256) {
        throw new QuarantineIntegrityError(
          `${where}: expected the quarantined payload to have sha256 ${record.sha256} as its record says, received ${actual}; left untouched`,
        );
      }
      await chmod(payload, 0o400);
      await recordQuarantine(input, record, dir);
      return result(stepId, record, dir, true);
    }

    if (!(await exists(payload))) {
      // Not moved yet (no record, or a pending one from an attempt that stopped before the move). Roots first, so a
      // path outside them is refused alike whether or not it exists.
      await checkRoots(where, target, input.roots, input.dataDir);
      const source = await lstatOrMissing(target);
      if (!source) {
        throw new QuarantineSourceMissingError(
          `${where}: expected a file at ${target}, received none; nothing to quarantine`,
        );
      }
      if (source.isSymbolicLink()) {
        throw new QuarantineRefusedError(
          `${where}: expected a regular file at ${target}, received a symbolic link (not followed); nothing moved`,
        );
      }
      if (!source.isFile()) {
        throw new QuarantineRefusedError(
          `${where}: expected a regular file at ${target}, received ${describeType(source)}; nothing moved`,
        );
      }
      record = describe(incidentId, stepId, target, source, null, null);
      await writeRecord(dir, record);
      await moveInto(where, target, payload, source);
    }

    // Moved (now, or by an earlier attempt): describe the payload itself, which kept the file's inode metadata.
    const moved = await lstat(payload);
    const sha256 = await hashFile(payload);
    record = describe(incidentId, stepId, target, moved, sha256, input.now.toISOString());
    await writeRecord(dir, record);
    // Not readable by others, not writable, not executable while it sits in quarantine; restore puts the mode back.
    await chmod(payload, 0o400);
    await recordQuarantine(input, record, dir);
    return result(stepId, record, dir, false);
  });
}

function result(stepId: string, record: QuarantineRecord, dir: string, reused: boolean): QuarantineResult {
  return {
    stepId,
    originalPath: record.originalPath,
    payload: path.join(dir, record.payload),
    record: path.join(dir, RECORD),
    sha256: record.sha256 ?? '',
    size: record.size,
    reused,
  };
}

/** One ledger entry per move, keyed by the step's idempotency key so a retried step records it once. */
async function recordMove(
  kind: 'file.quarantine' | 'file.restore',
  input: { dataDir: string; idempotencyKey: string; now: Date },
  record: QuarantineRecord,
  data: Record<string, unknown>,
): Promise<void> {
  const key = `${kind}:${input.idempotencyKey}`;
  const common = { stepId: record.stepId, originalPath: record.originalPath, sha256: record.sha256 };
  await appendLedger(ledgerFile(input.dataDir), {
    incidentId: record.incidentId,
    kind,
    key,
    at: input.now,
    data: { ...common, ...data },
  });
}

function recordQuarantine(input: QuarantineInput, record: QuarantineRecord, dir: string): Promise<void> {
  return recordMove('file.quarantine', input, record, {
    size: record.size,
    mode: record.modeOctal,
    mtime: record.mtime,
    payload: path.join(dir, record.payload),
    record: path.join(dir, RECORD),
  });
}

/** rename; across file systems, copy (hashing), check the source did not change meanwhile, then unlink it. */
async function moveInto(where: string, source: string, destination: string, before: Stats): Promise<void> {
  try {
    await rename(source, destination);
    return;
  } catch (error) {
    if (errorCode(error) !== 'EXDEV') throw error;
  }
  const tmp = `${destination}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await copyExclusive(source, tmp, before.mode & 0o7777, before.mtimeMs);
    const after = await lstat(source);
    if (after.ino !== before.ino || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new Error(`${where}: ${source} changed while it was being copied; try again`);
    }
    await rename(tmp, destination);
    await unlink(source);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Restore

export async function restoreFile(input: RestoreInput): Promise<RestoreResult> {
  const incidentId = checkId('incidentId', input.incidentId);
  const target = checkPath(input.path);
  const stepId =
    input.step !== undefined ? checkId('step', input.step) : await findStep(input.dataDir, incidentId, target);
  const dir = quarantineDir(input.dataDir, incidentId, stepId);
  const where = `restore ${incidentId}/${stepId}`;

  return withFileLock(`${dir}.lock`, async () => {
    const record = await readRecord(dir);
    if (!record) {
      throw new QuarantineSourceMissingError(
        `${where}: expected a quarantine record in ${dir}, received none; nothing to restore`,
      );
    }
    if (record.originalPath !== target) {
      throw new QuarantineRefusedError(
        `${where}: expected step ${stepId} to have quarantined ${target}, but its record names ${record.originalPath}`,
      );
    }
    if (record.status === 'pending' || !record.sha256) {
      throw new QuarantineRefusedError(
        `${where}: the quarantine of ${target} never completed (record still pending), so there is no verified hash to restore against; ` +
          `inspect ${dir} by hand`,
      );
    }
    const payload = path.join(dir, record.payload);

    if (record.status === 'restored') {
      const actual = await hashOrMissing(target);
      if (actual !== record.sha256) {
        throw new QuarantineIntegrityError(
          `${where}: ${target} was restored at ${record.restoredAt ?? '?'}, but it now has sha256 ${actual}, not ${record.sha256}`,
        );
      }
      await recordRestore(input, record);
      return { restored: target, fromStep: stepId, sha256: record.sha256, reused: true };
    }

    const present = await lstatOrMissing(target);
    const held = await lstatOrMissing(payload);
    if (held && present && present.ino === held.ino && present.dev === held.dev) {
      // An earlier attempt linked the payload back but stopped before unlinking it: finish that move.
      await unlink(payload);
    } else if (held) {
      const actual = await hashFile(payload);
      if (actual !== record.sha256) {
        throw new QuarantineIntegrityError(
          `${where}: expected the quarantined payload to have sha256 ${record.sha256} as its record says, received ${actual}; not restored`,
        );
      }
      if (present) {
        throw new QuarantineRefusedError(
          `${where}: expected nothing at ${target}, received ${describeType(present)} (${present.size} bytes); refusing to overwrite it`,
        );
      }
      await checkRoots(where, target, input.roots, input.dataDir);
      await moveBack(where, payload, target, record);
    } else if (!present) {
      throw new QuarantineSourceMissingError(
        `${where}: expected the payload ${payload} or a restored file at ${target}, received neither`,
      );
    }
    // Restored now, or by an attempt that stopped before it updated the record: check what is at the target.
    const restored = await hashOrMissing(target);
    if (restored !== record.sha256) {
      throw new QuarantineIntegrityError(
        `${where}: expected ${target} to have sha256 ${record.sha256} after the restore, received ${restored}`,
      );
    }
    await chmod(target, record.mode);
    await utimes(target, input.now, record.mtimeMs / 1000);
    const done: QuarantineRecord = {
      ...record,
      status: 'restored',
      restoredAt: input.now.toISOString(),
      restoredBy: input.restoreStepId,
    };
    await writeRecord(dir, done);
    await recordRestore(input, done);
    return { restored: target, fromStep: stepId, sha256: record.sha256, reused: false };
  });
}

/** Without clobbering: link then unlink; a copy opened with 'wx' across file systems. */
async function moveBack(where: string, payload: string, target: string, record: QuarantineRecord): Promise<void> {
  try {
    await link(payload, target);
    await unlink(payload);
    return;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST')
      throw new QuarantineRefusedError(`${where}: a file appeared at ${target} meanwhile; refusing to overwrite it`);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  }
  try {
    await copyExclusive(payload, target, record.mode, record.mtimeMs);
  } catch (error) {
    if (errorCode(error) === 'EEXIST')
      throw new QuarantineRefusedError(`${where}: a file appeared at ${target} meanwhile; refusing to overwrite it`);
    throw error;
  }
  await unlink(payload);
}

function recordRestore(input: RestoreInput, record: QuarantineRecord): Promise<void> {
  return recordMove('file.restore', input, record, { restoredBy: input.restoreStepId });
}

/** The step whose record names `target`: the one still quarantined, else the last restored one. */
async function findStep(dataDir: string, incidentId: string, target: string): Promise<string> {
  const base = path.join(dataDir, 'quarantine', incidentId);
  let names: string[];
  try {
    names = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    names = [];
  }
  const matches: QuarantineRecord[] = [];
  for (const name of names.sort()) {
    const record = await readRecord(path.join(base, name)).catch(() => undefined);
    if (record?.originalPath === target) matches.push(record);
  }
  const held = matches.filter((r) => r.status === 'quarantined');
  if (held.length > 1) {
    throw new InvalidActionInputError(
      `restore ${incidentId}: ${target} is quarantined by steps ${held.map((r) => r.stepId).join(', ')}; name one with \`step\``,
    );
  }
  const chosen =
    held[0] ??
    matches
      .filter((r) => r.status === 'restored')
      .sort((a, b) => (a.restoredAt ?? '').localeCompare(b.restoredAt ?? ''))
      .at(-1);
  if (!chosen) {
    throw new QuarantineSourceMissingError(
      `restore ${incidentId}: expected a quarantine record for ${target} in ${base}, received none`,
    );
  }
  return chosen.stepId;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks and helpers

async function checkRoots(where: string, target: string, roots: string[], dataDir: string): Promise<void> {
  if (roots.length === 0) {
    throw new QuarantineRefusedError(
      `${where}: no quarantine.roots are configured, so every path is refused (${target})`,
    );
  }
  const refused = (real?: string) =>
    new QuarantineRefusedError(
      `${where}: expected a path under the quarantine roots (${roots.join(', ')}), received ${target}` +
        `${real && real !== target ? ` (really ${real})` : ''}; nothing moved`,
    );
  const realRoots = (await Promise.all(roots.map((root) => realpath(root).catch(() => undefined)))).filter(
    (root): root is string => root !== undefined,
  );
  // As written first (normalised, so `..` cannot climb out), so nothing about paths elsewhere is revealed...
  if (![...roots.map((root) => path.resolve(root)), ...realRoots].some((root) => inside(target, root))) throw refused();
  // ...then as it really is: a symbolic link to a directory cannot smuggle a file in or out of a root.
  let parent: string;
  try {
    parent = await realpath(path.dirname(target));
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
      throw new QuarantineSourceMissingError(
        `${where}: expected the directory ${path.dirname(target)} to exist, received none`,
      );
    }
    throw error;
  }
  const real = path.join(parent, path.basename(target));
  const store = await realpath(path.join(dataDir, 'quarantine')).catch(() => path.resolve(dataDir, 'quarantine'));
  if (inside(real, store)) {
    throw new QuarantineRefusedError(`${where}: ${target} is inside the quarantine store itself`);
  }
  if (!realRoots.some((root) => inside(real, root))) throw refused(real);
}

function inside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value) || value.includes('..')) {
    throw new InvalidActionInputError(
      `quarantine ${field}: expected 1-128 letters, digits, '.', '_' or '-' (no path separators, no '..'), received ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkPath(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new InvalidActionInputError(
      `quarantine path: expected an absolute file path, received ${JSON.stringify(value)}`,
    );
  }
  if (!path.isAbsolute(value)) {
    throw new InvalidActionInputError(
      `quarantine path: expected an absolute file path, received the relative path ${JSON.stringify(value)}`,
    );
  }
  const resolved = path.resolve(value);
  if (resolved === path.parse(resolved).root) {
    throw new InvalidActionInputError(`quarantine path: expected a file, received the root directory`);
  }
  return resolved;
}

function describe(
  incidentId: string,
  stepId: string,
  originalPath: string,
  info: Stats,
  sha256: string | null,
  quarantinedAt: string | null,
): QuarantineRecord {
  const mode = info.mode & 0o7777;
  return {
    formatVersion: 1,
    status: sha256 ? 'quarantined' : 'pending',
    incidentId,
    stepId,
    originalPath,
    payload: PAYLOAD,
    sha256,
    size: info.size,
    mode,
    modeOctal: mode.toString(8).padStart(4, '0'),
    mtime: info.mtime.toISOString(),
    mtimeMs: info.mtimeMs,
    uid: info.uid,
    gid: info.gid,
    quarantinedAt,
  };
}

async function readRecord(dir: string): Promise<QuarantineRecord | undefined> {
  const text = await readTextIfExists(path.join(dir, RECORD));
  if (text === undefined) return undefined;
  let record: QuarantineRecord;
  try {
    record = JSON.parse(text) as QuarantineRecord;
  } catch {
    throw new QuarantineIntegrityError(
      `quarantine record ${path.join(dir, RECORD)}: expected JSON, received text that does not parse; left untouched`,
    );
  }
  if (record.formatVersion !== 1 || typeof record.originalPath !== 'string' || record.payload !== PAYLOAD) {
    throw new QuarantineIntegrityError(
      `quarantine record ${path.join(dir, RECORD)}: expected a version 1 record, received something else; left untouched`,
    );
  }
  return record;
}

/** Atomically: a synced temporary file renamed over the record. */
async function writeRecord(dir: string, record: QuarantineRecord): Promise<void> {
  const tmp = path.join(dir, `.${RECORD}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path.join(dir, RECORD));
}

const NO_FOLLOW = fsConstants.O_NOFOLLOW ?? 0;

async function copyExclusive(source: string, destination: string, mode: number, mtimeMs: number): Promise<string> {
  const input = await open(source, fsConstants.O_RDONLY | NO_FOLLOW);
  try {
    const output = await open(destination, 'wx', 0o600);
    const hash = createHash('sha256');
    try {
      for await (const chunk of input.createReadStream({ autoClose: false, start: 0 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        await output.write(chunk);
      }
      await output.sync();
      await output.chmod(mode);
      await output.utimes(new Date(), mtimeMs / 1000);
    } finally {
      await output.close();
    }
    return hash.digest('hex');
  } finally {
    await input.close();
  }
}

async function hashFile(file: string): Promise<string> {
  const handle = await open(file, fsConstants.O_RDONLY | NO_FOLLOW);
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>)
      hash.update(chunk);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

async function hashOrMissing(file: string): Promise<string> {
  try {
    return await hashFile(file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return 'no file';
    if (code === 'ELOOP') return 'a symbolic link';
    throw error;
  }
}

async function lstatOrMissing(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function describeType(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFile()) return 'a regular file';
  return 'a special file (device, FIFO or socket)';
}

/** file.quarantine and file.restore, as runbook actions: records and payloads under dataDir, roots from config. */
export function quarantinePerformers(ctx: ActionContext): Performers<'file.quarantine' | 'file.restore'> {
  return {
    'file.quarantine': (p, input) =>
      quarantineFile({
        incidentId: input.incidentId,
        stepId: input.stepId,
        path: p.path,
        dataDir: ctx.config.dataDir,
        roots: ctx.config.quarantine?.roots ?? [],
        now: ctx.now(),
        idempotencyKey: input.idempotencyKey,
      }),
    'file.restore': (p, input) =>
      restoreFile({
        incidentId: input.incidentId,
        path: p.path,
        ...(p.step ? { step: p.step } : {}),
        dataDir: ctx.config.dataDir,
        roots: ctx.config.quarantine?.roots ?? [],
        now: ctx.now(),
        restoreStepId: input.stepId,
        idempotencyKey: input.idempotencyKey,
      }),
  };
}
