// File quarantine and restore on real temporary files: the move and its record, idempotent retries (also after a
// crash between the record and the move), the roots guard against traversal and symbolic links, hash-checked restore,
// the ledger entries, and the actions as the engine runs them (parameter parsing, drills, non-retryable failures).
// Must never touch anything outside its own temporary directories.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import {
  QuarantineIntegrityError,
  QuarantineRefusedError,
  QuarantineSourceMissingError,
} from '../../activities/errors';
import {
  quarantineDir,
  quarantineFile,
  restoreFile,
  type QuarantineInput,
  type QuarantineRecord,
} from '../../activities/actions/quarantine';
import { InvalidActionInputError, NonRetryableActionError } from '../../activities/errors';
import { ledgerFile, readLedger, verifyLedger } from '../../activities/ledger';
import { EngineConfigFile, buildConfig } from '../../src/config';
import { ACTIONS, type ActionInput } from '../../domain/actions';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const LATER = new Date('2026-03-02T08:00:00.000Z');
const MTIME = new Date('2026-01-15T10:20:30.000Z');
const CONTENT = Buffer.concat([Buffer.from('MZ\x90\x00 suspicious payload '), Buffer.from([0, 1, 2, 255])]);
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let root: string;
let uploads: string;
let outside: string;
let dataDir: string;
let suspect: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'quarantine-test-'));
  uploads = path.join(root, 'srv', 'uploads');
  outside = path.join(root, 'etc');
  dataDir = path.join(root, 'data');
  await mkdir(path.join(uploads, 'user-7'), { recursive: true });
  await mkdir(outside, { recursive: true });
  suspect = path.join(uploads, 'user-7', 'invoice.pdf.exe');
  await writeFile(suspect, CONTENT);
  await chmod(suspect, 0o754);
  await utimes(suspect, MTIME, MTIME);
});

afterEach(async () => {
  // The payload is read-only: make it removable first.
  await chmod(root, 0o755).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

function quarantineInput(overrides: Partial<QuarantineInput> = {}): QuarantineInput {
  return {
    incidentId: 'INC-2026-001',
    stepId: 'quarantine-upload',
    path: suspect,
    dataDir,
    roots: [uploads],
    now: NOW,
    idempotencyKey: 'INC-2026-001/quarantine-upload',
    ...overrides,
  };
}

function restoreInput(overrides: Partial<Parameters<typeof restoreFile>[0]> = {}): Parameters<typeof restoreFile>[0] {
  return {
    incidentId: 'INC-2026-001',
    path: suspect,
    dataDir,
    roots: [uploads],
    now: LATER,
    restoreStepId: 'restore-upload',
    idempotencyKey: 'INC-2026-001/restore-upload',
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection, received ${String(error)}`);
  return error;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function readRecord(stepId = 'quarantine-upload'): Promise<QuarantineRecord> {
  return JSON.parse(
    await readFile(path.join(quarantineDir(dataDir, 'INC-2026-001', stepId), 'record.json'), 'utf8'),
  ) as QuarantineRecord;
}

describe('file.quarantine', () => {
  it('moves the file into the step directory with a record of hash, path, size, mode and mtime', async () => {
    const result = await quarantineFile(quarantineInput());
    const dir = quarantineDir(dataDir, 'INC-2026-001', 'quarantine-upload');
    expect(dir).toBe(path.join(dataDir, 'quarantine', 'INC-2026-001', 'quarantine-upload'));
    expect(result).toEqual({
      stepId: 'quarantine-upload',
      originalPath: suspect,
      payload: path.join(dir, 'payload'),
      record: path.join(dir, 'record.json'),
      sha256: sha256(CONTENT),
      size: CONTENT.length,
      reused: false,
    });

    expect(await exists(suspect)).toBe(false);
    expect(await readFile(result.payload)).toEqual(CONTENT);
    // Not executable, not writable, not readable by others while quarantined.
    expect((await stat(result.payload)).mode & 0o777).toBe(0o400);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    const record = await readRecord();
    expect(record).toMatchObject({
      formatVersion: 1,
      status: 'quarantined',
      incidentId: 'INC-2026-001',
      stepId: 'quarantine-upload',
      originalPath: suspect,
      payload: 'payload',
      sha256: sha256(CONTENT),
      size: CONTENT.length,
      mode: 0o754,
      modeOctal: '0754',
      mtime: MTIME.toISOString(),
      quarantinedAt: NOW.toISOString(),
    });

    const entries = await readLedger(ledgerFile(dataDir));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      seq: 1,
      incidentId: 'INC-2026-001',
      kind: 'file.quarantine',
      key: 'file.quarantine:INC-2026-001/quarantine-upload',
      at: NOW.toISOString(),
      data: {
        stepId: 'quarantine-upload',
        originalPath: suspect,
        sha256: sha256(CONTENT),
        size: CONTENT.length,
        mode: '0754',
      },
    });
  });

  it('is idempotent: a retry after the move neither fails nor moves again (not even a new file at the path)', async () => {
    const first = await quarantineFile(quarantineInput());
    // An attacker uploads again to the same path before the retry: the retry must not take it as well.
    await writeFile(suspect, 'second upload');
    const second = await quarantineFile(quarantineInput());
    expect(second).toEqual({ ...first, reused: true });
    expect(await readFile(suspect, 'utf8')).toBe('second upload');
    expect(await readFile(first.payload)).toEqual(CONTENT);
    expect(await readLedger(ledgerFile(dataDir))).toHaveLength(1);
  });

  it('finishes the work of an attempt that stopped between its pending record and the move, or after the move', async () => {
    const dir = quarantineDir(dataDir, 'INC-2026-001', 'quarantine-upload');

    // Stopped after the pending record, before the move.
    const first = await quarantineFile(quarantineInput());
    const pending: QuarantineRecord = { ...(await readRecord()), status: 'pending', sha256: null, quarantinedAt: null };
    await chmod(first.payload, 0o754);
    await rename(first.payload, suspect);
    await writeFile(path.join(dir, 'record.json'), JSON.stringify(pending));
    const resumed = await quarantineFile(quarantineInput());
    expect(resumed.sha256).toBe(sha256(CONTENT));
    expect(await exists(suspect)).toBe(false);
    expect((await readRecord()).status).toBe('quarantined');

    // Stopped after the move, before the record was completed: the payload is there, the source is gone.
    await chmod(first.payload, 0o754);
    await writeFile(path.join(dir, 'record.json'), JSON.stringify(pending));
    const finished = await quarantineFile(quarantineInput());
    expect(finished).toMatchObject({ sha256: sha256(CONTENT), reused: false });
    expect(await readRecord()).toMatchObject({ status: 'quarantined', mode: 0o754, sha256: sha256(CONTENT) });
    expect((await stat(first.payload)).mode & 0o777).toBe(0o400);
    // The ledger still has one entry for the key.
    expect(await readLedger(ledgerFile(dataDir))).toHaveLength(1);
  });

  it('refuses paths outside the roots, including by .. traversal and through a symbolic link to a directory', async () => {
    const passwd = path.join(outside, 'passwd');
    await writeFile(passwd, 'root:x:0:0');
    await symlink(outside, path.join(uploads, 'escape'));

    for (const attempt of [
      passwd,
      `${uploads}/../../etc/passwd`,
      path.join(uploads, 'escape', 'passwd'),
      path.join(outside, 'missing'),
    ]) {
      const error = await rejection(quarantineFile(quarantineInput({ path: attempt })));
      expect(error, attempt).toBeInstanceOf(QuarantineRefusedError);
      expect(error.message).toContain('expected a path under the quarantine roots');
    }
    expect(await readFile(passwd, 'utf8')).toBe('root:x:0:0');
    expect(await exists(path.join(dataDir, 'ledger.jsonl'))).toBe(false);
  });

  it('refuses symbolic links, directories, relative paths, missing files, and everything when no roots are set', async () => {
    await symlink(suspect, path.join(uploads, 'link.exe'));
    const link = await rejection(quarantineFile(quarantineInput({ path: path.join(uploads, 'link.exe') })));
    expect(link).toBeInstanceOf(QuarantineRefusedError);
    expect(link.message).toContain('received a symbolic link (not followed)');

    const dir = await rejection(quarantineFile(quarantineInput({ path: path.join(uploads, 'user-7') })));
    expect(dir).toBeInstanceOf(QuarantineRefusedError);
    expect(dir.message).toContain('received a directory');

    const relative = await rejection(quarantineFile(quarantineInput({ path: 'srv/uploads/user-7/invoice.pdf.exe' })));
    expect(relative).toBeInstanceOf(InvalidActionInputError);

    const missing = await rejection(quarantineFile(quarantineInput({ path: path.join(uploads, 'nope.exe') })));
    expect(missing).toBeInstanceOf(QuarantineSourceMissingError);

    const noRoots = await rejection(quarantineFile(quarantineInput({ roots: [] })));
    expect(noRoots).toBeInstanceOf(QuarantineRefusedError);
    expect(noRoots.message).toContain('no quarantine.roots are configured');

    const badStep = await rejection(quarantineFile(quarantineInput({ stepId: '../escape' })));
    expect(badStep).toBeInstanceOf(InvalidActionInputError);

    expect(await readFile(suspect)).toEqual(CONTENT);
    for (const error of [link, dir, relative, missing, noRoots, badStep])
      expect(error).toBeInstanceOf(NonRetryableActionError);
  });

  it('refuses a second path under the same step', async () => {
    await quarantineFile(quarantineInput());
    const other = path.join(uploads, 'other.exe');
    await writeFile(other, 'x');
    const error = await rejection(quarantineFile(quarantineInput({ path: other })));
    expect(error).toBeInstanceOf(QuarantineRefusedError);
    expect(await exists(other)).toBe(true);
  });

  it('moves across file systems by copying, verifying and unlinking', async () => {
    const shm = await mkdtemp('/dev/shm/quarantine-test-').catch(() => undefined);
    if (!shm || (await stat(shm)).dev === (await stat(root)).dev) {
      if (shm) await rm(shm, { recursive: true, force: true });
      return; // no second file system here
    }
    try {
      const result = await quarantineFile(quarantineInput({ dataDir: path.join(shm, 'data') }));
      expect(await exists(suspect)).toBe(false);
      expect(await readFile(result.payload)).toEqual(CONTENT);
      expect(result.sha256).toBe(sha256(CONTENT));
      const restored = await restoreFile(restoreInput({ dataDir: path.join(shm, 'data') }));
      expect(restored.reused).toBe(false);
      expect(await readFile(suspect)).toEqual(CONTENT);
      expect((await stat(suspect)).mode & 0o7777).toBe(0o754);
      expect((await stat(suspect)).mtime.toISOString()).toBe(MTIME.toISOString());
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe('file.restore', () => {
  it('puts the file back with its content, mode and mtime, and records the restore', async () => {
    const quarantined = await quarantineFile(quarantineInput());
    const result = await restoreFile(restoreInput({ step: 'quarantine-upload' }));
    expect(result).toEqual({
      restored: suspect,
      fromStep: 'quarantine-upload',
      sha256: sha256(CONTENT),
      reused: false,
    });
    expect(await readFile(suspect)).toEqual(CONTENT);
    const info = await stat(suspect);
    expect(info.mode & 0o7777).toBe(0o754);
    expect(info.mtime.toISOString()).toBe(MTIME.toISOString());
    expect(await exists(quarantined.payload)).toBe(false);
    expect(await readRecord()).toMatchObject({
      status: 'restored',
      restoredAt: LATER.toISOString(),
      restoredBy: 'restore-upload',
    });

    const entries = await readLedger(ledgerFile(dataDir));
    expect(entries.map((e) => [e.seq, e.kind, e.key])).toEqual([
      [1, 'file.quarantine', 'file.quarantine:INC-2026-001/quarantine-upload'],
      [2, 'file.restore', 'file.restore:INC-2026-001/restore-upload'],
    ]);
    expect(entries[1]?.data).toEqual({
      stepId: 'quarantine-upload',
      restoredBy: 'restore-upload',
      originalPath: suspect,
      sha256: sha256(CONTENT),
    });
    expect((await verifyLedger(ledgerFile(dataDir))).ok).toBe(true);
  });

  it('is idempotent and finds the quarantining step by path', async () => {
    await quarantineFile(quarantineInput());
    await restoreFile(restoreInput());
    const again = await restoreFile(restoreInput());
    expect(again).toEqual({ restored: suspect, fromStep: 'quarantine-upload', sha256: sha256(CONTENT), reused: true });
    expect(await readLedger(ledgerFile(dataDir))).toHaveLength(2);
  });

  it('finishes a restore that linked the file back but stopped before removing the payload', async () => {
    const quarantined = await quarantineFile(quarantineInput());
    const { link } = await import('node:fs/promises');
    await link(quarantined.payload, suspect);
    const result = await restoreFile(restoreInput());
    expect(result.reused).toBe(false);
    expect(await exists(quarantined.payload)).toBe(false);
    expect((await stat(suspect)).mode & 0o7777).toBe(0o754);
  });

  it('refuses a payload whose hash no longer matches its record, and leaves it in quarantine', async () => {
    const quarantined = await quarantineFile(quarantineInput());
    await chmod(quarantined.payload, 0o600);
    await writeFile(quarantined.payload, Buffer.concat([CONTENT, Buffer.from('tampered')]));
    const error = await rejection(restoreFile(restoreInput()));
    expect(error).toBeInstanceOf(QuarantineIntegrityError);
    expect(error.message).toContain(`expected the quarantined payload to have sha256 ${sha256(CONTENT)}`);
    expect(await exists(suspect)).toBe(false);
    expect(await exists(quarantined.payload)).toBe(true);
    expect(await readLedger(ledgerFile(dataDir))).toHaveLength(1);
  });

  it('refuses to overwrite a file that now sits at the original path', async () => {
    const quarantined = await quarantineFile(quarantineInput());
    await writeFile(suspect, 'a clean replacement');
    const error = await rejection(restoreFile(restoreInput()));
    expect(error).toBeInstanceOf(QuarantineRefusedError);
    expect(error.message).toContain('refusing to overwrite it');
    expect(await readFile(suspect, 'utf8')).toBe('a clean replacement');
    expect(await exists(quarantined.payload)).toBe(true);
  });

  it('fails when nothing was quarantined from the path', async () => {
    const error = await rejection(restoreFile(restoreInput({ path: path.join(uploads, 'never.exe') })));
    expect(error).toBeInstanceOf(QuarantineSourceMissingError);
  });
});

describe('as engine actions', () => {
  function activities(roots: string[]) {
    const config = buildConfig(EngineConfigFile.parse({ dataDir: 'data', quarantine: { roots } }), root);
    return createActivities({ config, now: () => NOW });
  }

  function input(
    action: 'file.quarantine' | 'file.restore',
    stepId: string,
    params: Record<string, unknown>,
    drill = false,
  ): ActionInput {
    return {
      incidentId: 'INC-2026-001',
      phase: 'contain',
      stepId,
      action,
      params,
      drill,
      idempotencyKey: `INC-2026-001/${stepId}`,
    };
  }

  it('quarantines under configured roots (relative to the config) and restores through the compensation step', async () => {
    const acts = activities(['srv/uploads']);
    const output = await acts['file.quarantine'](input('file.quarantine', 'quarantine-upload', { path: suspect }));
    expect(output).toMatchObject({ stepId: 'quarantine-upload', sha256: sha256(CONTENT), reused: false });

    const compensation = ACTIONS['file.quarantine'].compensate?.({ path: suspect }, output);
    expect(compensation).toEqual({ action: 'file.restore', with: { path: suspect, step: 'quarantine-upload' } });
    expect(ACTIONS['file.quarantine'].destructive).toBe(true);
    await acts['file.restore'](input('file.restore', 'undo-quarantine-upload', compensation?.with ?? {}));
    expect(await readFile(suspect)).toEqual(CONTENT);
  });

  it('fails non-retryably outside the roots, and touches nothing in a drill', async () => {
    const acts = activities(['srv/uploads']);
    const passwd = path.join(outside, 'passwd');
    await writeFile(passwd, 'root:x:0:0');
    const error = await rejection(
      acts['file.quarantine'](input('file.quarantine', 'quarantine-passwd', { path: passwd })),
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('QuarantineRefusedError');

    await expect(
      acts['file.quarantine'](input('file.quarantine', 'drill-step', { path: suspect }, true)),
    ).resolves.toEqual({ recorded: true });
    expect(await readFile(suspect)).toEqual(CONTENT);

    const badParams = await rejection(
      acts['file.quarantine'](input('file.quarantine', 'bad', { path: suspect, recursive: true })),
    );
    expect((badParams as ApplicationFailure).type).toBe('InvalidActionInputError');
  });
});
