// Evidence preservation: snapshot files and directories into `<evidenceDir>/<incidentId>/<stepId>.tar.gz` plus a
// manifest of SHA-256 hashes, and verify such a snapshot later. Idempotent, because activities run at least once.
// Must never shell out, follow symbolic links found inside a snapshotted directory, overwrite evidence that no longer
// matches its manifest, or publish an archive that failed its own check.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import {
  chmod,
  type FileHandle,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { z } from 'zod';
import { errorCode, readTextIfExists } from '../files';
import type { ActionContext, Performers } from '../context';
import { EvidenceIntegrityError, EvidenceSourceMissingError, InvalidActionInputError } from '../errors';
import { recordEvidenceSnapshot } from '../ledger';

export interface SnapshotEvidenceInput {
  incidentId: string;
  stepId: string;
  label?: string;
  /** Files or directories (recursive). Relative paths are resolved against `baseDir`. */
  paths: string[];
  /** Root of the evidence store; a relative path is resolved against `baseDir`. */
  evidenceDir: string;
  /** Recorded as the manifest's createdAt. A string is accepted because Dates cross Temporal as ISO strings. */
  now: Date | string;
  /** Where relative `paths` and `evidenceDir` are resolved, and what archive names are relative to. Default: cwd. */
  baseDir?: string;
}

export interface SkippedEntry {
  /** Archive-style name (or the configured path, for a top-level entry that could not be read). */
  path: string;
  reason: string;
}

export interface SnapshotEvidenceResult {
  /** Absolute path of `<stepId>.tar.gz`. */
  archive: string;
  /** Absolute path of `<stepId>.manifest.json`. */
  manifest: string;
  /** SHA-256 (hex) of the archive file. */
  sha256: string;
  /** Regular files in the archive. */
  files: number;
  /** Sum of their sizes (uncompressed). */
  bytes: number;
  /** Configured paths that did not exist. */
  missing: string[];
  /** Entries seen but not archived: symbolic links, sockets, unreadable files, files that vanished. */
  skipped: SkippedEntry[];
  /** True when an earlier attempt had already written this snapshot and it still matches its manifest. */
  reused: boolean;
}

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const EvidenceManifest = z.object({
  formatVersion: z.literal(1),
  incidentId: z.string(),
  stepId: z.string(),
  label: z.string().nullable(),
  createdAt: z.string(),
  /** File name of the archive, in the manifest's directory. */
  archive: z
    .string()
    .regex(/^[^/\\]+$/, 'expected a file name without path separators')
    .refine((name) => name !== '..'),
  archiveSha256: Sha256Hex,
  archiveBytes: z.number().int().nonnegative(),
  /** The configured paths, as given. */
  paths: z.array(z.string()),
  missing: z.array(z.string()),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  /** Regular files in archive order; `path` is the name inside the archive. */
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: Sha256Hex })),
  totalBytes: z.number().int().nonnegative(),
});
export type EvidenceManifest = z.infer<typeof EvidenceManifest>;

export type EvidenceMismatchKind =
  | 'manifest-invalid'
  | 'archive-missing'
  | 'archive-unreadable'
  | 'archive-sha256'
  | 'file-missing'
  | 'file-unexpected'
  | 'file-duplicate'
  | 'file-size'
  | 'file-sha256';

export interface EvidenceMismatch {
  kind: EvidenceMismatchKind;
  /** The archive file name, or a file's name inside the archive, or the manifest path for manifest-invalid. */
  path: string;
  expected?: string;
  actual?: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Snapshot `paths` into a gzip tarball and manifest; reuse an earlier identical attempt's output. */
export async function snapshotEvidence(input: SnapshotEvidenceInput): Promise<SnapshotEvidenceResult> {
  const incidentId = checkId('incidentId', input.incidentId);
  const stepId = checkId('stepId', input.stepId);
  const createdAt = checkDate(input.now);
  const configured = checkPaths(input.paths);
  if (input.label !== undefined && typeof input.label !== 'string') {
    throw new InvalidActionInputError(`evidence label: expected a string, received ${typeof input.label}`);
  }
  if (typeof input.evidenceDir !== 'string' || input.evidenceDir === '' || input.evidenceDir.includes('\0')) {
    throw new InvalidActionInputError(
      `evidenceDir: expected a directory path, received ${JSON.stringify(input.evidenceDir)}`,
    );
  }
  const baseDir = path.resolve(input.baseDir ?? process.cwd());
  const evidenceRoot = path.resolve(baseDir, input.evidenceDir);
  const dir = path.join(evidenceRoot, incidentId);
  const archiveName = `${stepId}.tar.gz`;
  const archivePath = path.join(dir, archiveName);
  const manifestPath = path.join(dir, `${stepId}.manifest.json`);

  // Evidence is for the responders only: the incident's folder 0700, archives and manifests 0600.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const earlier = await reuseEarlier(manifestPath, archivePath, { incidentId, stepId, archiveName });
  if (earlier) return earlier;

  const collected = await collect(configured, baseDir, await realpath(evidenceRoot));
  if (collected.existing === 0) {
    const unreadable = collected.skipped.map((entry) => `${entry.path} (${entry.reason})`);
    throw new EvidenceSourceMissingError(
      `evidence ${incidentId}/${stepId}: expected at least one of the configured paths to exist, received none: ` +
        [...collected.missing.map((p) => `${p} (not found)`), ...unreadable].join(', ') +
        `; relative paths resolve against ${baseDir} (evidenceBase in incident-engine.yaml)`,
    );
  }

  const suffix = randomBytes(6).toString('hex');
  const tmpArchive = path.join(dir, `.${archiveName}.${suffix}.tmp`);
  const tmpManifest = path.join(dir, `.${stepId}.manifest.json.${suffix}.tmp`);
  const staging = await mkdtemp(path.join(dir, `.${stepId}.staging-`));
  try {
    const { names, files, skipped } = await stage(collected, staging);
    if (names.length === 0) {
      throw new EvidenceSourceMissingError(
        `evidence ${incidentId}/${stepId}: expected files or directories to archive, received nothing readable: ` +
          skipped.map((entry) => `${entry.path} (${entry.reason})`).join(', '),
      );
    }
    // Staged copies are stable (no growing logs, no swapped links), so the archive holds exactly what was hashed.
    await tar.c(
      { gzip: true, portable: true, cwd: staging, file: tmpArchive, noDirRecurse: true, strict: true },
      names,
    );
    await chmod(tmpArchive, 0o600);
    await syncFile(tmpArchive);
    const archiveDigest = await hashFile(tmpArchive);

    const manifest: EvidenceManifest = {
      formatVersion: 1,
      incidentId,
      stepId,
      label: input.label ?? null,
      createdAt: createdAt.toISOString(),
      archive: archiveName,
      archiveSha256: archiveDigest.sha256,
      archiveBytes: archiveDigest.size,
      paths: configured,
      missing: collected.missing,
      skipped,
      files,
      totalBytes: files.reduce((sum, file) => sum + file.size, 0),
    };
    const problems = await checkArchive(tmpArchive, manifest);
    if (problems.length > 0) {
      throw new EvidenceIntegrityError(
        `evidence ${incidentId}/${stepId}: expected the new archive to match its manifest, received ${describeMismatches(problems)}`,
      );
    }
    await writeSynced(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
    // Archive first, manifest last: a manifest on disk always describes a complete archive.
    await rename(tmpArchive, archivePath);
    await rename(tmpManifest, manifestPath);
    return {
      archive: archivePath,
      manifest: manifestPath,
      sha256: manifest.archiveSha256,
      files: files.length,
      bytes: manifest.totalBytes,
      missing: manifest.missing,
      skipped,
      reused: false,
    };
  } catch (error) {
    // A full or read-only disk: Node's message names the operation, not always the directory; say where.
    const code = errorCode(error);
    if (code === undefined || (error as Error).message.includes(dir)) throw error;
    throw new Error(`evidence ${incidentId}/${stepId}: cannot write to ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(tmpArchive, { force: true });
    await rm(tmpManifest, { force: true });
  }
}

/** Recompute the archive hash and every file hash inside it; an empty list means the snapshot is intact. */
export async function verifyEvidence(manifestPath: string): Promise<EvidenceMismatch[]> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new EvidenceSourceMissingError(`evidence manifest: expected a file at ${manifestPath}, received none`);
    }
    throw error;
  }
  const parsed = parseManifest(text);
  if (!parsed.success) return [{ kind: 'manifest-invalid', path: manifestPath, actual: parsed.error }];
  return checkArchive(path.join(path.dirname(manifestPath), parsed.manifest.archive), parsed.manifest);
}

// ---------------------------------------------------------------------------------------------------------------
// Reuse

async function reuseEarlier(
  manifestPath: string,
  archivePath: string,
  expected: { incidentId: string; stepId: string; archiveName: string },
): Promise<SnapshotEvidenceResult | undefined> {
  const text = await readTextIfExists(manifestPath);
  if (text === undefined) return undefined;
  const where = `${expected.incidentId}/${expected.stepId}`;
  const parsed = parseManifest(text);
  if (!parsed.success) {
    throw new EvidenceIntegrityError(
      `evidence ${where}: expected the existing manifest ${manifestPath} to be valid, received ${parsed.error}; left untouched`,
    );
  }
  const { manifest } = parsed;
  if (
    manifest.incidentId !== expected.incidentId ||
    manifest.stepId !== expected.stepId ||
    manifest.archive !== expected.archiveName
  ) {
    throw new EvidenceIntegrityError(
      `evidence ${where}: expected the existing manifest to describe ${where}/${expected.archiveName}, received ` +
        `${manifest.incidentId}/${manifest.stepId}/${manifest.archive}; left untouched`,
    );
  }
  let actual: string;
  try {
    actual = (await hashFile(archivePath)).sha256;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    actual = 'no archive';
  }
  if (actual !== manifest.archiveSha256) {
    throw new EvidenceIntegrityError(
      `evidence ${where}: expected ${archivePath} to have sha256 ${manifest.archiveSha256} as its manifest says, ` +
        `received ${actual}; existing evidence left untouched for investigation`,
    );
  }
  return {
    archive: archivePath,
    manifest: manifestPath,
    sha256: manifest.archiveSha256,
    files: manifest.files.length,
    bytes: manifest.totalBytes,
    missing: manifest.missing,
    skipped: manifest.skipped,
    reused: true,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Collect: decide what goes in, under which name. Nothing is read yet.

interface Collected {
  /** Archive name -> real source path of a regular file, or null for a directory. */
  entries: Map<string, string | null>;
  missing: string[];
  skipped: SkippedEntry[];
  /** Configured paths that exist. */
  existing: number;
}

async function collect(configured: string[], baseDir: string, evidenceRoot: string): Promise<Collected> {
  const result: Collected = { entries: new Map(), missing: [], skipped: [], existing: 0 };
  const insideEvidence = (real: string): boolean =>
    real === evidenceRoot || real.startsWith(evidenceRoot.endsWith(path.sep) ? evidenceRoot : evidenceRoot + path.sep);

  const add = (name: string, source: string | null): boolean => {
    const earlier = result.entries.get(name);
    if (earlier === undefined) {
      result.entries.set(name, source);
      return true;
    }
    if (earlier !== source) result.skipped.push({ path: name, reason: 'name already used by another source' });
    return false;
  };

  const walk = async (realDir: string, name: string): Promise<void> => {
    let children;
    try {
      children = await readdir(realDir, { withFileTypes: true });
    } catch (error) {
      result.skipped.push({ path: name || '.', reason: describeFsError(error) });
      return;
    }
    children.sort((a, b) => compareNames(a.name, b.name));
    for (const child of children) {
      const childName = name ? `${name}/${child.name}` : child.name;
      const childReal = path.join(realDir, child.name);
      if (insideEvidence(childReal)) {
        result.skipped.push({ path: childName, reason: 'inside the evidence directory' });
      } else if (child.isDirectory()) {
        if (add(childName, null)) await walk(childReal, childName);
      } else if (child.isFile()) {
        add(childName, childReal);
      } else if (child.isSymbolicLink()) {
        result.skipped.push({ path: childName, reason: 'symbolic link (not followed)' });
      } else {
        result.skipped.push({ path: childName, reason: 'not a regular file or directory' });
      }
    }
  };

  for (const configuredPath of configured) {
    const absolute = path.resolve(baseDir, configuredPath);
    let real: string;
    try {
      // A configured path may itself be a link (e.g. /var/log/app -> /data/app): the operator named it, so follow it.
      real = await realpath(absolute);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') result.missing.push(configuredPath);
      else result.skipped.push({ path: configuredPath, reason: describeFsError(error) });
      continue;
    }
    result.existing += 1;
    const name = archiveName(baseDir, absolute);
    if (insideEvidence(real)) {
      result.skipped.push({ path: configuredPath, reason: 'inside the evidence directory' });
      continue;
    }
    const info = await stat(real);
    if (info.isDirectory()) {
      if (name === '' || add(name, null)) await walk(real, name);
    } else if (info.isFile()) {
      add(name || path.basename(real), real);
    } else {
      result.skipped.push({ path: configuredPath, reason: 'not a regular file or directory' });
    }
  }
  return result;
}

/** Relative to baseDir when inside it, else the absolute path without its root; always '/'-separated. */
function archiveName(baseDir: string, absolute: string): string {
  const relative = path.relative(baseDir, absolute);
  const outside = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  const name = outside ? absolute.slice(path.parse(absolute).root.length) : relative;
  return name.split(path.sep).filter(Boolean).join('/');
}

// ---------------------------------------------------------------------------------------------------------------
// Stage: copy every file once, hashing as it is copied, into a private directory that tar then packs.

interface Staged {
  names: string[];
  files: EvidenceManifest['files'];
  skipped: SkippedEntry[];
}

async function stage(collected: Collected, staging: string): Promise<Staged> {
  const skipped = [...collected.skipped];
  const names: string[] = [];
  const files: EvidenceManifest['files'] = [];
  const sorted = [...collected.entries.keys()].sort(compareNames);
  for (const name of sorted) {
    const source = collected.entries.get(name);
    const target = path.join(staging, ...name.split('/'));
    if (source === null || source === undefined) {
      await mkdir(target, { recursive: true, mode: 0o700 });
      names.push(name);
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const copied = await copyFile(source, target);
    if ('reason' in copied) {
      skipped.push({ path: name, reason: copied.reason });
      continue;
    }
    names.push(name);
    files.push({ path: name, size: copied.size, sha256: copied.sha256 });
  }
  return { names, files, skipped };
}

const NO_FOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const NON_BLOCK = fsConstants.O_NONBLOCK ?? 0;

async function copyFile(
  source: string,
  target: string,
): Promise<{ size: number; sha256: string } | { reason: string }> {
  let input: FileHandle;
  try {
    // O_NOFOLLOW: a file swapped for a link since it was listed is not followed. O_NONBLOCK: a FIFO cannot hang us.
    input = await open(source, fsConstants.O_RDONLY | NO_FOLLOW | NON_BLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ELOOP') return { reason: 'became a symbolic link (not followed)' };
    if (code === 'ENOENT') return { reason: 'vanished before it could be copied' };
    return { reason: describeFsError(error) };
  }
  try {
    const info = await input.stat();
    if (!info.isFile()) return { reason: 'not a regular file' };
    const output = await open(target, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of input.createReadStream({ autoClose: false, start: 0 }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        await output.write(chunk);
      }
      // Keep the original mtime and permission bits (owner-readable, so tar can read the copy); no set-id bits.
      await output.chmod((info.mode & 0o777) | 0o400);
      await output.utimes(info.atime, info.mtime);
    } finally {
      await output.close();
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await input.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Check an archive against a manifest, streaming (nothing is extracted).

async function checkArchive(archivePath: string, manifest: EvidenceManifest): Promise<EvidenceMismatch[]> {
  const mismatches: EvidenceMismatch[] = [];
  const archive = manifest.archive;
  let digest: { sha256: string; size: number };
  try {
    digest = await hashFile(archivePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [{ kind: 'archive-missing', path: archive }];
    throw error;
  }
  if (digest.sha256 !== manifest.archiveSha256) {
    mismatches.push({ kind: 'archive-sha256', path: archive, expected: manifest.archiveSha256, actual: digest.sha256 });
  }

  const found = new Map<string, { size: number; sha256: string }>();
  const pending: Promise<void>[] = [];
  try {
    await tar.t({
      file: archivePath,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type === 'Directory') return;
        const name = entry.path;
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          mismatches.push({ kind: 'file-unexpected', path: name, actual: `${entry.type} entry` });
          return;
        }
        const hash = createHash('sha256');
        let size = 0;
        pending.push(
          new Promise<void>((resolve, reject) => {
            entry.on('data', (chunk: Buffer) => {
              hash.update(chunk);
              size += chunk.length;
            });
            entry.on('end', () => {
              if (found.has(name)) mismatches.push({ kind: 'file-duplicate', path: name });
              else found.set(name, { size, sha256: hash.digest('hex') });
              resolve();
            });
            entry.on('error', reject);
          }),
        );
      },
    });
    await Promise.all(pending);
  } catch (error) {
    mismatches.push({
      kind: 'archive-unreadable',
      path: archive,
      actual: error instanceof Error ? error.message : String(error),
    });
    return mismatches;
  }

  for (const file of manifest.files) {
    const actual = found.get(file.path);
    if (!actual) {
      mismatches.push({ kind: 'file-missing', path: file.path });
      continue;
    }
    found.delete(file.path);
    if (actual.size !== file.size) {
      mismatches.push({ kind: 'file-size', path: file.path, expected: String(file.size), actual: String(actual.size) });
    }
    if (actual.sha256 !== file.sha256) {
      mismatches.push({ kind: 'file-sha256', path: file.path, expected: file.sha256, actual: actual.sha256 });
    }
  }
  for (const name of found.keys()) mismatches.push({ kind: 'file-unexpected', path: name });
  return mismatches;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value) || value.includes('..')) {
    throw new InvalidActionInputError(
      `evidence ${field}: expected 1-128 letters, digits, '.', '_' or '-' starting with a letter or digit ` +
        `(no path separators, no '..'), received ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`,
    );
  }
  return value;
}

function checkDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidActionInputError(
      `evidence now: expected a Date or ISO timestamp, received ${JSON.stringify(value)}`,
    );
  }
  return date;
}

function checkPaths(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidActionInputError(
      `evidence paths: expected a non-empty list of paths, received ${JSON.stringify(value)}`,
    );
  }
  const unique: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || item === '' || item.includes('\0')) {
      throw new InvalidActionInputError(
        `evidence paths: expected non-empty path strings, received ${JSON.stringify(item)}`,
      );
    }
    if (!unique.includes(item)) unique.push(item);
  }
  return unique;
}

function parseManifest(
  text: string,
): { success: true; manifest: EvidenceManifest } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { success: false, error: `invalid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = EvidenceManifest.safeParse(json);
  return parsed.success
    ? { success: true, manifest: parsed.data }
    : { success: false, error: z.prettifyError(parsed.error).replace(/\n/g, '; ') };
}

/** Code-point order, independent of locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const handle = await open(file, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await handle.close();
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function describeMismatches(mismatches: EvidenceMismatch[]): string {
  return mismatches.map((m) => `${m.kind} ${m.path}`).join(', ');
}

function describeFsError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * evidence.snapshot, as a runbook action: paths resolve against evidenceBase, archives go to evidenceDir, and the
 * archive and manifest hashes go into the evidence ledger (once per key, also when a retry reuses the snapshot).
 */
export function evidencePerformers(ctx: ActionContext): Performers<'evidence.snapshot'> {
  return {
    'evidence.snapshot': async (p, input) => {
      const now = ctx.now();
      const snapshot = await snapshotEvidence({
        incidentId: input.incidentId,
        stepId: input.stepId,
        ...(p.label ? { label: p.label } : {}),
        paths: p.paths,
        evidenceDir: ctx.config.evidenceDir,
        baseDir: ctx.config.evidenceBase,
        now,
      });
      const entry = await recordEvidenceSnapshot(ctx.config.dataDir, {
        incidentId: input.incidentId,
        stepId: input.stepId,
        idempotencyKey: input.idempotencyKey,
        at: now,
        snapshot,
      });
      return { ...snapshot, ledgerSeq: entry.seq };
    },
  };
}
