// Evidence snapshots on real temporary directories: archive contents, manifest hashes, reuse, tampering, bad input.
// Must never touch anything outside its own temporary directories.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvidenceManifest, snapshotEvidence, verifyEvidence } from '../../activities/actions/evidence';
import { EvidenceIntegrityError, EvidenceSourceMissingError, InvalidActionInputError } from '../../activities/errors';
import { NON_RETRYABLE_ERROR_TYPES } from '../../domain/errors';

const NOW = new Date('2026-03-01T12:34:56.000Z');
let root: string;
let app: string;
let evidenceDir: string;

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

async function put(relative: string, content: string | Buffer): Promise<void> {
  const file = path.join(app, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function listArchive(archive: string): Promise<string[]> {
  const names: string[] = [];
  await tar.t({ file: archive, onReadEntry: (entry) => names.push(entry.path) });
  return names;
}

async function readManifest(file: string): Promise<EvidenceManifest> {
  return EvidenceManifest.parse(JSON.parse(await readFile(file, 'utf8')));
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'evidence-test-'));
  app = path.join(root, 'app');
  evidenceDir = path.join(root, 'evidence');
  await put('logs/security-audit.log', 'login failed for admin from 203.0.113.7\n'.repeat(50));
  await put('logs/system.log', 'kernel: oom-killer invoked\n');
  await put('logs/nested/deeper/app.log', Buffer.from([0, 1, 2, 255, 254, 10]));
  await put('config/app.yaml', 'safe_mode: false\n');
  await put('backups/latest.json', '{"backup_id":"latest"}');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const input = (
  overrides: Partial<Parameters<typeof snapshotEvidence>[0]> = {},
): Parameters<typeof snapshotEvidence>[0] => ({
  incidentId: 'INC-2026-001',
  stepId: 'preserve-evidence',
  label: 'Security audit logs, system logs, configuration',
  paths: ['./logs/', './config', 'backups/latest.json'],
  evidenceDir,
  now: NOW,
  baseDir: app,
  ...overrides,
});

describe('snapshotEvidence', () => {
  it('archives the configured files byte for byte, in a deterministic order', async () => {
    const result = await snapshotEvidence(input());

    expect(result.archive).toBe(path.join(evidenceDir, 'INC-2026-001', 'preserve-evidence.tar.gz'));
    expect(result.manifest).toBe(path.join(evidenceDir, 'INC-2026-001', 'preserve-evidence.manifest.json'));
    expect(result.reused).toBe(false);
    expect(result.missing).toEqual([]);
    expect(result.files).toBe(5);

    const fileNames = [
      'backups/latest.json',
      'config/app.yaml',
      'logs/nested/deeper/app.log',
      'logs/security-audit.log',
      'logs/system.log',
    ];
    const listed = await listArchive(result.archive);
    expect(listed.filter((name) => !name.endsWith('/'))).toEqual(fileNames);
    expect(listed).toEqual([...listed].sort());

    const out = path.join(root, 'extracted');
    await mkdir(out);
    await tar.x({ file: result.archive, cwd: out });
    let total = 0;
    for (const name of fileNames) {
      const original = await readFile(path.join(app, name));
      expect(await readFile(path.join(out, name))).toEqual(original);
      total += original.length;
    }
    expect(result.bytes).toBe(total);
    // No temporary or staging files are left next to the evidence.
    expect((await readdir(path.dirname(result.archive))).sort()).toEqual([
      'preserve-evidence.manifest.json',
      'preserve-evidence.tar.gz',
    ]);
  });

  it('writes a manifest whose hashes equal sha256 of each file and of the archive', async () => {
    const result = await snapshotEvidence(input());
    const manifest = await readManifest(result.manifest);

    expect(manifest).toMatchObject({
      incidentId: 'INC-2026-001',
      stepId: 'preserve-evidence',
      label: 'Security audit logs, system logs, configuration',
      createdAt: '2026-03-01T12:34:56.000Z',
      archive: 'preserve-evidence.tar.gz',
      missing: [],
    });
    const archiveBytes = await readFile(result.archive);
    expect(manifest.archiveSha256).toBe(sha256(archiveBytes));
    expect(manifest.archiveBytes).toBe(archiveBytes.length);
    expect(result.sha256).toBe(manifest.archiveSha256);
    expect(manifest.files).toHaveLength(5);
    for (const file of manifest.files) {
      const content = await readFile(path.join(app, file.path));
      expect(file.sha256, file.path).toBe(sha256(content));
      expect(file.size, file.path).toBe(content.length);
    }
    expect(await verifyEvidence(result.manifest)).toEqual([]);
  });

  it('keeps file modification times and produces identical archives for identical sources', async () => {
    await utimes(path.join(app, 'config/app.yaml'), new Date('2025-01-02T03:04:05Z'), new Date('2025-01-02T03:04:05Z'));
    const a = await snapshotEvidence(input({ stepId: 'snap-a' }));
    const b = await snapshotEvidence(input({ stepId: 'snap-b', now: new Date('2026-03-02T00:00:00Z') }));
    expect(a.sha256).toBe(b.sha256);

    const out = path.join(root, 'extracted');
    await mkdir(out);
    await tar.x({ file: a.archive, cwd: out });
    expect((await stat(path.join(out, 'config/app.yaml'))).mtime.toISOString()).toBe('2025-01-02T03:04:05.000Z');
  });

  it('reuses the earlier snapshot on a second call without rewriting it', async () => {
    const first = await snapshotEvidence(input());
    const before = await stat(first.archive);
    const manifestBefore = await readFile(first.manifest, 'utf8');
    await put('logs/system.log', 'changed after the snapshot\n');

    const second = await snapshotEvidence(input({ now: new Date('2026-03-01T13:00:00Z') }));
    expect(second).toEqual({ ...first, reused: true });
    expect((await stat(first.archive)).mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(first.manifest, 'utf8')).toBe(manifestBefore);
  });

  it('accepts `now` as an ISO string, as it arrives from a workflow', async () => {
    const result = await snapshotEvidence(input({ now: '2026-03-01T12:34:56.000Z' }));
    expect((await readManifest(result.manifest)).createdAt).toBe('2026-03-01T12:34:56.000Z');
  });

  it('lists a missing path and archives the rest', async () => {
    const result = await snapshotEvidence(input({ paths: ['./logs', './memory-dumps', '/nonexistent/pcap'] }));
    expect(result.missing).toEqual(['./memory-dumps', '/nonexistent/pcap']);
    expect(result.files).toBe(3);
    expect((await readManifest(result.manifest)).missing).toEqual(['./memory-dumps', '/nonexistent/pcap']);
  });

  it('throws EvidenceSourceMissingError naming the paths when none exist', async () => {
    const attempt = snapshotEvidence(input({ paths: ['./memory-dumps', './pcap/'] }));
    await expect(attempt).rejects.toBeInstanceOf(EvidenceSourceMissingError);
    await expect(attempt).rejects.toThrow(/memory-dumps.*pcap/);
    expect(NON_RETRYABLE_ERROR_TYPES).toContain('EvidenceSourceMissingError');
    expect(await readdir(path.join(evidenceDir, 'INC-2026-001'))).toEqual([]);
  });

  it('names entries outside baseDir by their absolute path and does not follow links inside directories', async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'not evidence');
    await writeFile(path.join(outside, 'extra.log'), 'extra');
    await symlink(path.join(outside, 'secret.txt'), path.join(app, 'logs', 'link-to-secret'));

    const result = await snapshotEvidence(input({ paths: ['logs', path.join(outside, 'extra.log')] }));
    const manifest = await readManifest(result.manifest);
    const names = manifest.files.map((file) => file.path);
    expect(names).toContain(`${path.join(outside, 'extra.log').slice(1)}`);
    expect(names).not.toContain('logs/link-to-secret');
    expect(manifest.skipped).toEqual([{ path: 'logs/link-to-secret', reason: 'symbolic link (not followed)' }]);
    expect(result.skipped).toEqual(manifest.skipped);
  });

  it('never archives the evidence directory itself', async () => {
    const result = await snapshotEvidence(input({ paths: ['.'], evidenceDir: 'evidence' }));
    const names = (await readManifest(result.manifest)).files.map((file) => file.path);
    expect(names).toContain('logs/system.log');
    expect(names.some((name) => name.startsWith('evidence'))).toBe(false);
    expect(result.skipped).toEqual([{ path: 'evidence', reason: 'inside the evidence directory' }]);
  });

  it('refuses a tampered archive instead of overwriting it', async () => {
    const first = await snapshotEvidence(input());
    await writeFile(first.archive, Buffer.from('not the archive'));
    await expect(snapshotEvidence(input())).rejects.toBeInstanceOf(EvidenceIntegrityError);
    expect(await readFile(first.archive, 'utf8')).toBe('not the archive');
  });

  it.each([
    ['incidentId', '../INC-2026-001'],
    ['incidentId', 'INC/2026'],
    ['incidentId', 'INC\\2026'],
    ['incidentId', '..'],
    ['incidentId', ''],
    ['stepId', 'a..b'],
    ['stepId', '/etc/passwd'],
    ['stepId', '.hidden'],
  ])('refuses %s %j', async (field, value) => {
    const attempt = snapshotEvidence(input({ [field]: value }));
    await expect(attempt).rejects.toBeInstanceOf(InvalidActionInputError);
    await expect(attempt).rejects.toThrow(`received ${JSON.stringify(value)}`);
    await expect(stat(evidenceDir)).rejects.toThrow(/ENOENT/);
  });

  it('refuses empty path lists and invalid dates', async () => {
    await expect(snapshotEvidence(input({ paths: [] }))).rejects.toBeInstanceOf(InvalidActionInputError);
    await expect(snapshotEvidence(input({ now: 'yesterday' }))).rejects.toBeInstanceOf(InvalidActionInputError);
  });
});

describe('verifyEvidence', () => {
  it('reports a repacked archive with a changed file', async () => {
    const result = await snapshotEvidence(input());
    const out = path.join(root, 'tamper');
    await mkdir(out);
    await tar.x({ file: result.archive, cwd: out });
    await writeFile(path.join(out, 'logs/security-audit.log'), 'nothing to see here\n');
    await writeFile(path.join(out, 'logs/planted.log'), 'planted');
    const names = await listArchive(result.archive);
    await tar.c({ gzip: true, portable: true, cwd: out, file: result.archive, noDirRecurse: true }, [
      ...names.filter((name) => name !== 'config/app.yaml'),
      'logs/planted.log',
    ]);

    const mismatches = await verifyEvidence(result.manifest);
    expect(mismatches.map((m) => `${m.kind} ${m.path}`).sort()).toEqual([
      'archive-sha256 preserve-evidence.tar.gz',
      'file-missing config/app.yaml',
      'file-sha256 logs/security-audit.log',
      'file-size logs/security-audit.log',
      'file-unexpected logs/planted.log',
    ]);
    const changed = mismatches.find((m) => m.kind === 'file-sha256');
    expect(changed?.expected).toBe(sha256(await readFile(path.join(app, 'logs/security-audit.log'))));
    expect(changed?.actual).toBe(sha256('nothing to see here\n'));
  });

  it('reports a corrupted archive', async () => {
    const result = await snapshotEvidence(input());
    const bytes = await readFile(result.archive);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await writeFile(result.archive, bytes);

    const kinds = (await verifyEvidence(result.manifest)).map((m) => m.kind);
    expect(kinds[0]).toBe('archive-sha256');
    expect(kinds.length).toBeGreaterThan(1);
  });

  it('reports a missing archive and an edited manifest', async () => {
    const result = await snapshotEvidence(input());
    await rm(result.archive);
    expect(await verifyEvidence(result.manifest)).toEqual([
      { kind: 'archive-missing', path: 'preserve-evidence.tar.gz' },
    ]);

    await writeFile(result.manifest, JSON.stringify({ archive: '../../etc/passwd' }));
    const [problem] = await verifyEvidence(result.manifest);
    expect(problem?.kind).toBe('manifest-invalid');
  });

  it('throws EvidenceSourceMissingError for a manifest that does not exist', async () => {
    await expect(verifyEvidence(path.join(root, 'nope.manifest.json'))).rejects.toBeInstanceOf(
      EvidenceSourceMissingError,
    );
  });
});
