// The evidence ledger on real files: the hash chain and its canonical form, idempotent appends, tamper detection that
// names the first bad entry (edit, edit with a recomputed hash, delete, reorder, duplicate, truncated tail), concurrent
// appends from one process and from several processes, stale locks, the `ledger verify` CLI, and the evidence
// snapshot action recording itself.
// Must never touch anything outside its own temporary directories.
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import {
  GENESIS_HASH,
  LedgerBusyError,
  LedgerCorruptError,
  appendLedger,
  entryHash,
  ledgerFile,
  ledgerHeadFile,
  ledgerKeyFile,
  readLedger,
  verifyLedger,
  withFileLock,
  type LedgerEntry,
} from '../../activities/ledger';
import { EngineConfigFile, buildConfig } from '../../src/config';

const REPO = path.resolve(import.meta.dirname, '../..');
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

let root: string;
let file: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ledger-test-'));
  file = ledgerFile(path.join(root, 'data'));
  await mkdir(path.dirname(file), { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
/** The chain key the ledger created beside itself at first append. */
const chainKey = async (): Promise<Buffer> => Buffer.from((await readFile(ledgerKeyFile(file), 'utf8')).trim(), 'hex');

/** An independent canonical form: sorted keys at every level, JSON.stringify's compact output. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

async function appendN(n: number): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const { entry } = await appendLedger(file, {
      incidentId: `INC-2026-00${1 + (i % 2)}`,
      kind: i % 2 ? 'evidence.snapshot' : 'file.quarantine',
      key: `key-${i}`,
      at: new Date(T0 + i * 1000),
      data: { step: `step-${i}`, sha256: sha256(`content ${i}`), nested: { z: 1, a: [i, 'x'] } },
    });
    entries.push(entry);
  }
  return entries;
}

async function lines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

async function writeLines(next: string[]): Promise<void> {
  await writeFile(file, next.map((line) => `${line}\n`).join(''));
}

describe('appendLedger', () => {
  it('chains entries: seq from 1, prevHash = previous hash, hash = HMAC-SHA256 (key kept apart, 0600) of the canonical entry', async () => {
    const entries = await appendN(4);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);

    const stored = (await lines()).map((line) => JSON.parse(line) as LedgerEntry);
    expect(stored).toEqual(entries);
    const key = await chainKey();
    expect(key).toHaveLength(32);
    expect((await stat(ledgerKeyFile(file))).mode & 0o777).toBe(0o600);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(path.dirname(ledgerKeyFile(file))).not.toBe(path.dirname(file));
    for (const entry of stored) {
      const { hash, ...rest } = entry;
      expect(hash).toBe(
        createHmac('sha256', key)
          .update(JSON.stringify(sortKeys(rest)))
          .digest('hex'),
      );
      expect(Object.keys(entry)).toEqual(['seq', 'at', 'incidentId', 'kind', 'key', 'data', 'prevHash', 'hash']);
    }
    expect(JSON.parse(await readFile(ledgerHeadFile(file), 'utf8'))).toEqual({
      seq: 4,
      hash: entries[3]?.hash,
      at: entries[3]?.at,
    });
    await expect(verifyLedger(file)).resolves.toEqual({
      ok: true,
      file,
      entries: 4,
      last: { seq: 4, hash: entries[3]?.hash },
      mismatches: [],
      warnings: [],
    });
  });

  it('is idempotent per key: a second append with the key returns the first entry and writes nothing', async () => {
    const first = await appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: 'same', data: { n: 1 } });
    const again = await appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: 'same', data: { n: 2 } });
    expect(first.appended).toBe(true);
    expect(again).toEqual({ entry: first.entry, appended: false });
    expect(await lines()).toHaveLength(1);
  });

  it('hashes exactly what a reader parses back (dates become strings, undefined members disappear)', async () => {
    const { entry } = await appendLedger(file, {
      incidentId: 'INC-1',
      kind: 'k',
      key: 'k1',
      data: { when: new Date(T0), gone: undefined, list: [1, undefined, 'a'] },
    });
    expect(entry.data).toEqual({ when: new Date(T0).toISOString(), list: [1, null, 'a'] });
    expect((await verifyLedger(file)).ok).toBe(true);
  });

  it('keeps one chain under 60 concurrent appends in one process', async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: `c-${i}`, data: { i } }),
      ),
    );
    const entries = await readLedger(file);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.key)).size).toBe(60);
    await expect(verifyLedger(file)).resolves.toMatchObject({ ok: true, entries: 60 });
  });

  it('keeps one chain when four processes append at once (the lock file, not only the in-process queue)', async () => {
    const script = path.join(root, 'append-worker.mts');
    await writeFile(
      script,
      [
        `import { appendLedger } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'activities/ledger.ts')).href)};`,
        'const [file, worker, count] = process.argv.slice(2);',
        'for (let i = 0; i < Number(count); i++) {',
        "  await appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: `w${worker}-${i}`, data: { worker, i } });",
        '}',
      ].join('\n'),
    );
    const run = (worker: number) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, file, String(worker), '25'], {
          cwd: REPO,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker ${worker} exited ${code}: ${stderr}`)),
        );
      });
    await Promise.all([1, 2, 3, 4].map(run));

    const entries = await readLedger(file);
    expect(entries).toHaveLength(100);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.key)).size).toBe(100);
    // Interleaved, so the processes really did contend.
    const workers = entries.map((e) => (e.data as { worker: string }).worker);
    expect(workers.some((w, i) => i > 0 && w !== workers[i - 1])).toBe(true);
    await expect(verifyLedger(file)).resolves.toMatchObject({ ok: true, entries: 100 });
    expect(await readFile(`${file}.lock`).catch(() => 'gone')).toBe('gone');
  }, 60_000);

  it('breaks a lock left by a process that died, and times out (retryably) on a live holder', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('exit', resolve));
    await writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: dead.pid, host: hostname(), token: 'old', at: new Date(T0).toISOString() }),
    );
    await expect(
      appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: 'after-crash', data: null }),
    ).resolves.toMatchObject({ appended: true });

    await writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone else', at: new Date().toISOString() }),
    );
    const busy = await withFileLock(`${file}.lock`, async () => 'ran', { timeoutMs: 200 }).catch(
      (error: unknown) => error,
    );
    expect(busy).toBeInstanceOf(LedgerBusyError);
    expect(await readFile(`${file}.lock`, 'utf8')).toContain('someone else');
  });

  it('refuses to append after a truncated tail, so the truncation cannot be hidden by new entries', async () => {
    await appendN(5);
    await writeLines((await lines()).slice(0, 3));
    const error = await appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: 'new', data: null }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LedgerCorruptError);
    expect((error as Error).message).toContain('expected its last entry to be seq 5');
    expect(await lines()).toHaveLength(3);

    const text = (await lines()).join('\n') + '\n{"seq":4,"at":"2026';
    await writeFile(file, text);
    const torn = await appendLedger(file, { incidentId: 'INC-1', kind: 'k', key: 'new', data: null }).catch(
      (e: unknown) => e,
    );
    expect(torn).toBeInstanceOf(LedgerCorruptError);
    expect((torn as Error).message).toContain('incomplete entry at line 4');
  });
});

describe('verifyLedger', () => {
  it('names an edited entry', async () => {
    await appendN(5);
    const all = await lines();
    all[2] = all[2]!.replace(/"step":"step-3"/, '"step":"step-X"');
    await writeLines(all);
    const report = await verifyLedger(file);
    expect(report).toMatchObject({
      ok: false,
      entries: 2,
      last: { seq: 2 },
      problem: { kind: 'edited', line: 3, seq: 3 },
    });
    expect(report.problem?.message).toMatch(
      /^line 3 \(seq 3\): the entry was edited: its stored hash is [0-9a-f]{12}… but its content hashes to [0-9a-f]{12}… under the ledger key \(edited, or re-hashed without the key\)$/,
    );
  });

  it('names the break when an edited entry was given a recomputed hash (even by someone holding the key)', async () => {
    await appendN(5);
    const all = await lines();
    const third = JSON.parse(all[2]!) as LedgerEntry;
    const forged = { ...third, data: { step: 'step-3', sha256: sha256('forged') } };
    all[2] = JSON.stringify({ ...forged, hash: entryHash(forged, await chainKey()) });
    await writeLines(all);
    const report = await verifyLedger(file);
    expect(report.problem).toMatchObject({ kind: 'chain-broken', line: 4, seq: 4 });
    expect(report.problem?.message).toContain('does not match the hash of seq 3 (line 3');
    expect(report.problem?.message).toContain('seq 3 was rewritten with a new hash');
  });

  it('detects an entry deleted and the rest re-chained and the head rewritten, without the key', async () => {
    await appendN(5);
    const kept = (await lines()).map((line) => JSON.parse(line) as LedgerEntry).filter((e) => e.seq !== 3);
    // What an attacker without the key can do: renumber, re-chain with plain SHA-256, rewrite the head.
    let prevHash = GENESIS_HASH;
    const forged = kept.map((entry, i) => {
      const { hash: _old, ...rest } = { ...entry, seq: i + 1, prevHash };
      const hash = sha256(JSON.stringify(sortKeys(rest)));
      prevHash = hash;
      return { ...rest, hash };
    });
    await writeLines(forged.map((e) => JSON.stringify(e)));
    const last = forged.at(-1)!;
    await writeFile(ledgerHeadFile(file), `${JSON.stringify({ seq: last.seq, hash: last.hash, at: last.at })}\n`);
    const report = await verifyLedger(file);
    expect(report).toMatchObject({ ok: false, problem: { kind: 'edited', line: 1, seq: 1 } });
    expect(report.problem?.message).toContain('under the ledger key');
  });

  it('refuses to check a chain when its key is missing, naming where it looked', async () => {
    await appendN(2);
    await rm(ledgerKeyFile(file));
    await expect(verifyLedger(file)).rejects.toThrow(/ledger key .*ledger-hmac\.key does not exist/);
  });

  it('names a deleted entry, in the middle and at the start', async () => {
    await appendN(5);
    const all = await lines();
    await writeLines([...all.slice(0, 2), ...all.slice(3)]);
    const middle = await verifyLedger(file);
    expect(middle.problem).toMatchObject({ kind: 'deleted', line: 3, seq: 4 });
    expect(middle.problem?.message).toBe(
      'line 3: expected seq 3, found seq 4: seq 3 is missing (deleted before line 3)',
    );

    await writeLines(all.slice(2));
    const start = await verifyLedger(file);
    expect(start.problem?.message).toBe(
      'line 1: expected seq 1, found seq 3: seq 1-2 are missing (deleted before line 1)',
    );
  });

  it('names a reordering', async () => {
    await appendN(5);
    const all = await lines();
    await writeLines([all[0]!, all[1]!, all[3]!, all[2]!, all[4]!]);
    const report = await verifyLedger(file);
    expect(report.problem).toMatchObject({ kind: 'reordered', line: 3, seq: 4 });
    expect(report.problem?.message).toBe(
      'line 3: expected seq 3, found seq 4; seq 3 is at line 4: entries were reordered',
    );
  });

  it('names a duplicated entry', async () => {
    await appendN(3);
    const all = await lines();
    await writeLines([...all, all[1]!]);
    const report = await verifyLedger(file);
    expect(report.problem).toMatchObject({ kind: 'duplicated', line: 4, seq: 2 });
  });

  it('names a truncated tail: whole entries removed, or the last line cut short', async () => {
    await appendN(6);
    const all = await lines();
    await writeLines(all.slice(0, 4));
    const removed = await verifyLedger(file);
    expect(removed).toMatchObject({ ok: false, entries: 4, problem: { kind: 'truncated', line: 5, seq: 5 } });
    expect(removed.problem?.message).toMatch(
      /^ledger ends at seq 4 \(line 4\) but its head records seq 6 \(hash [0-9a-f]{12}…\): seq 5-6 were removed \(truncated tail\)$/,
    );

    await writeLines(all.slice(0, 5));
    expect((await verifyLedger(file)).problem?.message).toContain('seq 6 was removed (truncated tail)');

    await writeFile(file, all.join('\n').slice(0, -40));
    const cut = await verifyLedger(file);
    expect(cut.problem).toMatchObject({ kind: 'truncated', line: 6 });
    expect(cut.problem?.message).toMatch(/^line 6: incomplete entry at the end of the file/);

    await writeFile(file, '');
    expect((await verifyLedger(file)).problem?.message).toContain('has no entries but its head records seq 6');
  });

  it('fails without the head file (a cut tail could not be ruled out), and warns when the head lags one append', async () => {
    const entries = await appendN(3);
    const head = await readFile(ledgerHeadFile(file), 'utf8');
    await rm(ledgerHeadFile(file));
    expect((await verifyLedger(file)).problem).toMatchObject({ kind: 'head-missing', line: 4 });

    // An append that stopped between the line and the head update.
    await writeFile(ledgerHeadFile(file), JSON.stringify({ seq: 2, hash: entries[1]?.hash, at: entries[1]?.at }));
    const lagging = await verifyLedger(file);
    expect(lagging.ok).toBe(true);
    expect(lagging.warnings).toEqual([expect.stringContaining('one behind the last entry')]);

    // A head that names a different last entry: the tail was replaced.
    await writeFile(ledgerHeadFile(file), head.replace(/"hash":"[0-9a-f]{4}/, '"hash":"0000'));
    expect((await verifyLedger(file)).problem).toMatchObject({ kind: 'head-mismatch', line: 3, seq: 3 });
  });

  it('names a line that is not an entry', async () => {
    await appendN(3);
    const all = await lines();
    await writeLines([all[0]!, 'not json', all[1]!, all[2]!]);
    expect((await verifyLedger(file)).problem?.message).toBe(
      'line 2: expected ledger entry seq 2, received a line that is not one (not valid JSON): it was edited or inserted',
    );
  });
});

describe('incident-engine ledger verify', () => {
  function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(REPO, 'bin/incident-engine.mjs'), ...args], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('exits 0 on a good ledger and 1 with the precise message on a bad one', async () => {
    const entries = await appendN(3);
    const ok = await cli('ledger', 'verify', '--file', file);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`ledger ${file}: ok, 3 entries; last seq 3, hash ${entries[2]?.hash}`);

    const all = await lines();
    await writeLines([all[0]!, all[2]!]);
    const bad = await cli('ledger', 'verify', '--file', file);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `error: ledger ${file}: line 2: expected seq 2, found seq 3: seq 2 is missing (deleted before line 2)`,
    );
  }, 60_000);

  it('defaults to <dataDir>/ledger.jsonl from incident-engine.yaml', async () => {
    await appendN(2);
    await writeFile(path.join(root, 'incident-engine.yaml'), 'dataDir: data\n');
    const ok = await cli('--json', 'ledger', 'verify');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, file, entries: 2 });
  }, 60_000);
});

describe('evidence.snapshot records itself', () => {
  /** An evidence.snapshot activity over app/logs, with its data directory under the test's root. */
  async function snapshotSetup() {
    const base = path.join(root, 'app');
    await mkdir(path.join(base, 'logs'), { recursive: true });
    await writeFile(path.join(base, 'logs', 'audit.log'), 'login failed for admin\n');
    const config = buildConfig(EngineConfigFile.parse({ dataDir: 'data', evidenceBase: 'app' }), root);
    const activity = createActivities({ config, now: () => new Date(T0) })['evidence.snapshot'];
    const input = {
      incidentId: 'INC-2026-001',
      phase: 'contain' as const,
      stepId: 'preserve-evidence',
      action: 'evidence.snapshot',
      params: { paths: ['logs'] },
      drill: false,
      idempotencyKey: 'INC-2026-001/preserve-evidence',
    };
    return { config, activity, input };
  }

  it('appends archive and manifest hashes once per key, also when a retry reuses the snapshot', async () => {
    const { config, activity, input } = await snapshotSetup();

    const first = (await activity(input)) as {
      archive: string;
      manifest: string;
      sha256: string;
      reused: boolean;
      ledgerSeq: number;
    };
    const again = (await activity(input)) as typeof first;
    expect(again.reused).toBe(true);
    expect(again.ledgerSeq).toBe(first.ledgerSeq);

    const entries = await readLedger(ledgerFile(config.dataDir));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      seq: first.ledgerSeq,
      incidentId: 'INC-2026-001',
      kind: 'evidence.snapshot',
      key: 'evidence.snapshot:INC-2026-001/preserve-evidence',
      data: {
        stepId: 'preserve-evidence',
        archive: first.archive,
        sha256: first.sha256,
        manifest: first.manifest,
        manifestSha256: sha256(await readFile(first.manifest)),
        files: 1,
      },
    });
    expect(first.sha256).toBe(sha256(await readFile(first.archive)));
    await expect(verifyLedger(ledgerFile(config.dataDir))).resolves.toMatchObject({ ok: true, entries: 1 });
    // Private: the archive and manifest 0600 in a 0700 folder, whatever the source's mode.
    expect((await stat(first.archive)).mode & 0o777).toBe(0o600);
    expect((await stat(first.manifest)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(first.archive))).mode & 0o777).toBe(0o700);
  });

  it('`ledger verify` re-hashes archives, manifests and quarantined files and lists each mismatch', async () => {
    const { config, activity, input } = await snapshotSetup();
    const snap = (await activity(input)) as { archive: string; manifest: string };
    const payload = path.join(root, 'quarantined.bin');
    await writeFile(payload, 'malware sample');
    const ledger = ledgerFile(config.dataDir);
    await appendLedger(ledger, {
      incidentId: 'INC-2026-001',
      kind: 'file.quarantine',
      key: 'q-1',
      data: { stepId: 'isolate', sha256: sha256('malware sample'), payload },
    });
    await expect(verifyLedger(ledger)).resolves.toMatchObject({ ok: true, mismatches: [] });

    // The chain is intact; the files it vouches for are not.
    await writeFile(snap.archive, 'a different archive');
    await writeFile(snap.manifest, '{}');
    await rm(payload);
    const report = await verifyLedger(ledger);
    expect(report.ok).toBe(false);
    expect(
      report.mismatches.map((m) => [m.seq, m.role, m.path, m.actual === 'missing' ? 'missing' : 'changed']),
    ).toEqual([
      [1, 'archive', snap.archive, 'changed'],
      [1, 'manifest', snap.manifest, 'changed'],
      [2, 'quarantined file', payload, 'missing'],
    ]);
    expect(report.problem).toMatchObject({ kind: 'file-mismatch', seq: 1 });
    expect(report.mismatches[0]!.message).toMatch(/archive .* hashes to [0-9a-f]{12}…, but the ledger records/);

    const cli = spawn(
      process.execPath,
      [path.join(REPO, 'bin/incident-engine.mjs'), 'ledger', 'verify', '--file', ledger],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => cli.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`archive ${snap.archive} hashes to`);
    expect(stderr).toContain(`manifest ${snap.manifest} hashes to`);
    expect(stderr).toContain(`quarantined file ${payload} is missing`);
  }, 60_000);
});
