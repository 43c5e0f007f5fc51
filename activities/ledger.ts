// The evidence ledger: an append-only, hash-chained JSON-lines file (`<dataDir>/ledger.jsonl`) recording every
// evidence snapshot and file quarantine, so chain of custody can be shown later. Each entry's hash is HMAC-SHA256,
// under a key kept apart from the ledger (`<dataDir>/keys/ledger-hmac.key` or INCIDENT_ENGINE_LEDGER_KEY_FILE, 0600,
// created at first use), over the canonical JSON of the entry without its hash (keys sorted, no whitespace), and that
// includes the previous entry's hash: editing, deleting or reordering an entry breaks the chain at that entry, and
// without the key nobody can re-chain it. A head file (`ledger.jsonl.head`) names the last entry, so a truncated tail
// is caught too. Verifying also re-hashes every archive, manifest and quarantined file the entries name.
// Appends are serialised by an in-process queue and a lock file, so concurrent activities (in one worker or several on
// the same host) cannot fork the chain; they are idempotent per key, because activities run at least once.
// Must never rewrite or drop an existing line, or append after a tail that no longer matches the head.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { NonRetryableActionError } from './errors';

export const GENESIS_HASH = '0'.repeat(64);

export interface LedgerEntry {
  /** 1, 2, 3... in file order. */
  seq: number;
  /** ISO timestamp of the append. */
  at: string;
  incidentId: string;
  /** What happened: `evidence.snapshot`, `file.quarantine`, `file.restore`... */
  kind: string;
  /** Idempotency key: a second append with the same key returns the first entry. */
  key: string;
  data: unknown;
  /** `hash` of the previous entry; GENESIS_HASH for seq 1. */
  prevHash: string;
  hash: string;
}

export interface LedgerAppend {
  incidentId: string;
  kind: string;
  key: string;
  data: unknown;
  at?: Date;
}

/** The ledger's file cannot be appended to safely (incomplete last line, tail does not match the head). */
export class LedgerCorruptError extends NonRetryableActionError {
  override name = 'LedgerCorruptError';
}

/** Retryable: another writer held the lock for longer than the wait. */
export class LedgerBusyError extends Error {
  override name = 'LedgerBusyError';
}

export function ledgerFile(dataDir: string): string {
  return path.join(dataDir, 'ledger.jsonl');
}

export const LEDGER_KEY_FILE_ENV = 'INCIDENT_ENGINE_LEDGER_KEY_FILE';

/** Where the chain's HMAC key lives: INCIDENT_ENGINE_LEDGER_KEY_FILE, else `keys/ledger-hmac.key` beside the ledger. */
export function ledgerKeyFile(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[LEDGER_KEY_FILE_ENV];
  return configured ? path.resolve(configured) : path.join(path.dirname(file), 'keys', 'ledger-hmac.key');
}

/**
 * The chain key (32 random bytes, hex, mode 0600). `create`: made at first use, so that of two writers starting at
 * once one file wins and both use it; otherwise a missing key is an error (a verifier must not invent one).
 */
export async function loadLedgerKey(keyFile: string, create: boolean): Promise<Buffer> {
  try {
    return parseKey(keyFile, await readFile(keyFile, 'utf8'));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    if (!create) {
      throw new LedgerCorruptError(
        `ledger key ${keyFile} does not exist: the chain cannot be checked without the key it was written with (set ${LEDGER_KEY_FILE_ENV} if it is kept elsewhere)`,
      );
    }
  }
  await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  await chmod(path.dirname(keyFile), 0o700);
  const tmp = `${keyFile}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(32).toString('hex')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, keyFile);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  } finally {
    await rm(tmp, { force: true });
  }
  return parseKey(keyFile, await readFile(keyFile, 'utf8'));
}

function parseKey(keyFile: string, text: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new LedgerCorruptError(`ledger key ${keyFile}: expected 64 hex digits`);
  return Buffer.from(hex, 'hex');
}

/** Where the seq and hash of the last entry are kept. */
export function ledgerHeadFile(file: string): string {
  return `${file}.head`;
}

// ---------------------------------------------------------------------------------------------------------------
// Hashing

/** JSON with object keys sorted at every level and no whitespace; undefined members are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError(`ledger: cannot hash the number ${value}`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`ledger: cannot hash a value of type ${typeof value}`);
    return text;
  }
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** HMAC-SHA256 (hex) under the chain key of the canonical JSON of the entry without `hash`. */
export function entryHash(entry: Omit<LedgerEntry, 'hash'>, chainKey: Buffer): string {
  const { seq, at, incidentId, kind, key, data, prevHash } = entry;
  return createHmac('sha256', chainKey)
    .update(canonicalJson({ seq, at, incidentId, kind, key, data, prevHash }), 'utf8')
    .digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Appending

/** Appends one entry, or returns the existing entry for the same key. Serialised across activities and processes. */
export async function appendLedger(
  file: string,
  append: LedgerAppend,
  options: { keyFile?: string } = {},
): Promise<{ entry: LedgerEntry; appended: boolean }> {
  if (typeof append.key !== 'string' || append.key === '') throw new TypeError('ledger: expected a non-empty key');
  const chainKey = await loadLedgerKey(options.keyFile ?? ledgerKeyFile(file), true);
  // Normalise through JSON so what is hashed is exactly what a reader parses back.
  const data = JSON.parse(JSON.stringify(append.data ?? null)) as unknown;
  return withFileLock(`${file}.lock`, async () => {
    const lines = await readLines(file);
    let last: LedgerEntry | undefined;
    for (let i = lines.length - 1; i >= 0; i--) {
      const entry = parseEntry(lines[i] ?? '');
      if (entry && entry.key === append.key) return { entry, appended: false };
      if (i === lines.length - 1) {
        if (!entry) {
          throw new LedgerCorruptError(
            `ledger ${file}: expected a valid entry on its last line (${i + 1}), received one that does not parse; ` +
              'nothing appended; run `incident-engine ledger verify`',
          );
        }
        last = entry;
      }
    }
    const head = await readHead(ledgerHeadFile(file));
    if (head && (!last || head.seq > last.seq || (head.seq === last.seq && head.hash !== last.hash))) {
      throw new LedgerCorruptError(
        `ledger ${file}: expected its last entry to be seq ${head.seq} (hash ${short(head.hash)}) as the head file records, ` +
          `received ${last ? `seq ${last.seq} (hash ${short(last.hash)})` : 'no entries'}; nothing appended; run \`incident-engine ledger verify\``,
      );
    }
    const unsigned = {
      seq: (last?.seq ?? 0) + 1,
      at: (append.at ?? new Date()).toISOString(),
      incidentId: append.incidentId,
      kind: append.kind,
      key: append.key,
      data,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const entry: LedgerEntry = { ...unsigned, hash: entryHash(unsigned, chainKey) };
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.write(`${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await writeHead(ledgerHeadFile(file), { seq: entry.seq, hash: entry.hash, at: entry.at });
    return { entry, appended: true };
  });
}

/** Every entry that parses, in file order (for listing; use verifyLedger to check them). */
export async function readLedger(file: string): Promise<LedgerEntry[]> {
  const lines = await readLines(file);
  return lines.map(parseEntry).filter((entry): entry is LedgerEntry => entry !== undefined);
}

/** The file's text; '' when it does not exist. */
async function readTextOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return '';
    throw error;
  }
}

async function readLines(file: string): Promise<string[]> {
  const text = await readTextOrEmpty(file);
  if (text === '') return [];
  if (!text.endsWith('\n')) {
    const lineNo = text.split('\n').length;
    throw new LedgerCorruptError(
      `ledger ${file}: expected every entry to end with a newline, received an incomplete entry at line ${lineNo} ` +
        '(a truncated or interrupted write); nothing appended; run `incident-engine ledger verify`',
    );
  }
  return text.slice(0, -1).split('\n');
}

function parseEntry(line: string): LedgerEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return entryShapeProblem(value) === undefined ? (value as LedgerEntry) : undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Why a parsed line is not an entry, or undefined when it is one. */
function entryShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return 'seq is not a positive integer';
  for (const field of ['at', 'incidentId', 'kind', 'key'] as const) {
    if (typeof e[field] !== 'string') return `${field} is not a string`;
  }
  if (!('data' in e)) return 'data is missing';
  if (typeof e.prevHash !== 'string' || !HEX64.test(e.prevHash)) return 'prevHash is not 64 hex digits';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash is not 64 hex digits';
  const known = new Set(['seq', 'at', 'incidentId', 'kind', 'key', 'data', 'prevHash', 'hash']);
  const extra = Object.keys(e).filter((key) => !known.has(key));
  if (extra.length > 0) return `unexpected field ${extra.join(', ')}`;
  return undefined;
}

interface Head {
  seq: number;
  hash: string;
  at: string;
}

async function readHead(file: string): Promise<Head | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const head = JSON.parse(text) as Head;
    if (Number.isSafeInteger(head.seq) && typeof head.hash === 'string' && HEX64.test(head.hash)) return head;
  } catch {
    // fall through
  }
  throw new LedgerCorruptError(
    `ledger head ${file}: expected {"seq","hash","at"} JSON, received ${JSON.stringify(text.slice(0, 80))}`,
  );
}

async function writeHead(file: string, head: Head): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(head)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

// ---------------------------------------------------------------------------------------------------------------
// Verifying

export type LedgerProblemKind =
  | 'malformed' // a line that is not an entry
  | 'edited' // an entry whose content no longer matches its hash
  | 'deleted' // a gap in seq
  | 'reordered' // seq out of order
  | 'duplicated' // the same seq twice
  | 'chain-broken' // prevHash does not match the previous entry's hash
  | 'truncated' // an incomplete last line, or fewer entries than the head records
  | 'head-mismatch' // the head names an entry the file does not have
  | 'head-missing' // entries but no head file: the tail cannot be checked
  | 'file-mismatch'; // an archive, manifest or quarantined file no longer has the hash its entry records

export interface LedgerProblem {
  kind: LedgerProblemKind;
  /** 1-based line of the first bad entry (for a missing tail, the line after the last entry). */
  line: number;
  seq?: number;
  message: string;
}

export interface LedgerReport {
  ok: boolean;
  file: string;
  /** Entries checked and found good before the first problem (all of them when ok). */
  entries: number;
  /** Seq and hash of the last good entry. */
  last?: { seq: number; hash: string };
  problem?: LedgerProblem;
  /** Every referenced file whose content no longer matches its entry (all of them, not only the first). */
  mismatches: FileMismatch[];
  warnings: string[];
}

export interface FileMismatch {
  seq: number;
  /** What the entry calls it: `archive`, `manifest`, `quarantined file`. */
  role: string;
  path: string;
  expected: string;
  /** The file's SHA-256 now, or `missing`. */
  actual: string;
  message: string;
}

/**
 * Checks every entry's keyed hash, seq and link, and the tail against the head file (reporting the first break), then
 * re-hashes every archive, manifest and quarantined file the entries name (listing each mismatch).
 */
export async function verifyLedger(
  file: string,
  options: { headFile?: string; keyFile?: string } = {},
): Promise<LedgerReport> {
  const chain = await verifyChain(
    file,
    options.headFile ?? ledgerHeadFile(file),
    options.keyFile ?? ledgerKeyFile(file),
  );
  const mismatches = await checkReferencedFiles(await readLedgerLenient(file));
  if (mismatches.length === 0) return chain;
  const first = mismatches[0]!;
  return {
    ...chain,
    ok: false,
    mismatches,
    problem: chain.problem ?? { kind: 'file-mismatch', line: first.seq, seq: first.seq, message: first.message },
  };
}

/** The entries that parse, whatever the chain says: the files they name are checked regardless. */
async function readLedgerLenient(file: string): Promise<LedgerEntry[]> {
  const text = await readTextOrEmpty(file);
  return text
    .split('\n')
    .map(parseEntry)
    .filter((entry): entry is LedgerEntry => entry !== undefined);
}

async function sha256OfFile(file: string): Promise<string> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw error;
  }
}

/** Archives and manifests of snapshots; quarantined payloads while no restore entry follows their quarantine. */
async function checkReferencedFiles(entries: LedgerEntry[]): Promise<FileMismatch[]> {
  const restored = new Set(
    entries
      .filter((e) => e.kind === 'file.restore')
      .map((e) => `${e.incidentId}/${String((e.data as { stepId?: unknown }).stepId)}`),
  );
  const checks: { seq: number; role: string; path: string; expected: string }[] = [];
  for (const entry of entries) {
    const data = (entry.data ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    if (entry.kind === 'evidence.snapshot') {
      const archive = str(data.archive);
      const sha = str(data.sha256);
      if (archive && sha) checks.push({ seq: entry.seq, role: 'archive', path: archive, expected: sha });
      const manifest = str(data.manifest);
      const manifestSha = str(data.manifestSha256);
      if (manifest && manifestSha)
        checks.push({ seq: entry.seq, role: 'manifest', path: manifest, expected: manifestSha });
    } else if (entry.kind === 'file.quarantine' && !restored.has(`${entry.incidentId}/${String(data.stepId)}`)) {
      const payload = str(data.payload);
      const sha = str(data.sha256);
      if (payload && sha) checks.push({ seq: entry.seq, role: 'quarantined file', path: payload, expected: sha });
    }
  }
  const mismatches: FileMismatch[] = [];
  for (const check of checks) {
    const actual = await sha256OfFile(check.path);
    if (actual === check.expected) continue;
    mismatches.push({
      ...check,
      actual,
      message:
        actual === 'missing'
          ? `seq ${check.seq}: ${check.role} ${check.path} is missing (recorded sha256 ${short(check.expected)})`
          : `seq ${check.seq}: ${check.role} ${check.path} hashes to ${short(actual)}, but the ledger records ${short(check.expected)}: it was replaced or altered`,
    });
  }
  return mismatches;
}

async function verifyChain(file: string, headPath: string, keyFile: string): Promise<LedgerReport> {
  const warnings: string[] = [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    const head = await readHeadForVerify(headPath);
    if (head.value) {
      return fail(file, 0, undefined, warnings, {
        kind: 'truncated',
        line: 1,
        message: `ledger ${file} does not exist, but its head records seq ${head.value.seq} (hash ${short(head.value.hash)}): the whole ledger was removed`,
      });
    }
    return { ok: true, file, entries: 0, mismatches: [], warnings: [`ledger ${file} does not exist yet (no entries)`] };
  }

  const chainKey = text === '' ? Buffer.alloc(32) : await loadLedgerKey(keyFile, false);
  const complete = text === '' || text.endsWith('\n');
  const lines = text === '' ? [] : (complete ? text.slice(0, -1) : text).split('\n');
  const entries: (LedgerEntry | undefined)[] = lines.map(parseEntry);
  const linesBySeq = new Map<number, number[]>();
  entries.forEach((entry, index) => {
    if (entry) linesBySeq.set(entry.seq, [...(linesBySeq.get(entry.seq) ?? []), index + 1]);
  });

  let previous: LedgerEntry | undefined;
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const raw = lines[index] ?? '';
    const entry = entries[index];
    const expectedSeq = (previous?.seq ?? 0) + 1;
    const good = previous ? { seq: previous.seq, hash: previous.hash } : undefined;

    if (!entry) {
      if (!complete && index === lines.length - 1) {
        return fail(file, index, good, warnings, {
          kind: 'truncated',
          line: lineNo,
          message: `line ${lineNo}: incomplete entry at the end of the file (no newline${raw ? `, ${raw.length} bytes` : ''}): the tail was truncated or a write was interrupted; expected seq ${expectedSeq}`,
        });
      }
      let why: string;
      try {
        why = entryShapeProblem(JSON.parse(raw)) ?? 'not an entry';
      } catch {
        why = raw.trim() === '' ? 'empty line' : 'not valid JSON';
      }
      return fail(file, index, good, warnings, {
        kind: 'malformed',
        line: lineNo,
        message: `line ${lineNo}: expected ledger entry seq ${expectedSeq}, received a line that is not one (${why}): it was edited or inserted`,
      });
    }

    if (entry.seq !== expectedSeq) {
      const where = (seq: number) => linesBySeq.get(seq)?.filter((l) => l !== lineNo) ?? [];
      let problem: LedgerProblem;
      if (entry.seq < expectedSeq) {
        const earlier = (linesBySeq.get(entry.seq) ?? []).filter((l) => l < lineNo);
        problem =
          earlier.length > 0
            ? {
                kind: 'duplicated',
                line: lineNo,
                seq: entry.seq,
                message: `line ${lineNo}: expected seq ${expectedSeq}, found seq ${entry.seq} again (first at line ${earlier[0]}): an entry was duplicated or the chain forked`,
              }
            : {
                kind: 'reordered',
                line: lineNo,
                seq: entry.seq,
                message: `line ${lineNo}: expected seq ${expectedSeq}, found seq ${entry.seq}: entries were reordered`,
              };
      } else if (where(expectedSeq).length > 0) {
        problem = {
          kind: 'reordered',
          line: lineNo,
          seq: entry.seq,
          message: `line ${lineNo}: expected seq ${expectedSeq}, found seq ${entry.seq}; seq ${expectedSeq} is at line ${where(expectedSeq)[0]}: entries were reordered`,
        };
      } else {
        const missing =
          entry.seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq}-${entry.seq - 1} are`;
        problem = {
          kind: 'deleted',
          line: lineNo,
          seq: entry.seq,
          message: `line ${lineNo}: expected seq ${expectedSeq}, found seq ${entry.seq}: ${missing} missing (deleted before line ${lineNo})`,
        };
      }
      return fail(file, index, good, warnings, problem);
    }

    const computed = entryHash(entry, chainKey);
    if (computed !== entry.hash) {
      return fail(file, index, good, warnings, {
        kind: 'edited',
        line: lineNo,
        seq: entry.seq,
        message: `line ${lineNo} (seq ${entry.seq}): the entry was edited: its stored hash is ${short(entry.hash)} but its content hashes to ${short(computed)} under the ledger key (edited, or re-hashed without the key)`,
      });
    }
    const expectedPrev = previous?.hash ?? GENESIS_HASH;
    if (entry.prevHash !== expectedPrev) {
      return fail(file, index, good, warnings, {
        kind: 'chain-broken',
        line: lineNo,
        seq: entry.seq,
        message: previous
          ? `line ${lineNo} (seq ${entry.seq}): prevHash ${short(entry.prevHash)} does not match the hash of seq ${previous.seq} (line ${lineNo - 1}, ${short(previous.hash)}): seq ${previous.seq} was rewritten with a new hash, or this entry was altered`
          : `line ${lineNo} (seq ${entry.seq}): prevHash ${short(entry.prevHash)} is not the genesis hash: entries before it were removed, or it was altered`,
      });
    }
    previous = entry;
  }

  const last = previous ? { seq: previous.seq, hash: previous.hash } : undefined;
  const head = await readHeadForVerify(headPath);
  if (head.problem)
    return fail(file, lines.length, last, warnings, {
      kind: 'head-mismatch',
      line: lines.length + 1,
      message: head.problem,
    });
  if (!head.value) {
    if (!last) return { ok: true, file, entries: 0, mismatches: [], warnings };
    return fail(file, lines.length, last, warnings, {
      kind: 'head-missing',
      line: lines.length + 1,
      message: `ledger head ${headPath} is missing: entries 1-${last.seq} chain correctly, but a truncated tail cannot be ruled out`,
    });
  }
  const recorded = head.value;
  if (!last || recorded.seq > last.seq) {
    const ends = last ? `ends at seq ${last.seq} (line ${lines.length})` : 'has no entries';
    const gone = last
      ? recorded.seq - last.seq === 1
        ? `seq ${recorded.seq} was`
        : `seq ${last.seq + 1}-${recorded.seq} were`
      : `all ${recorded.seq} entries were`;
    return fail(file, lines.length, last, warnings, {
      kind: 'truncated',
      line: lines.length + 1,
      seq: last ? last.seq + 1 : 1,
      message: `ledger ${ends} but its head records seq ${recorded.seq} (hash ${short(recorded.hash)}): ${gone} removed (truncated tail)`,
    });
  }
  // The loop passed, so seqs run 1..last.seq without gaps: seq n is on line n.
  const atHead = entries[recorded.seq - 1];
  if (!atHead || atHead.hash !== recorded.hash) {
    return fail(file, lines.length, last, warnings, {
      kind: 'head-mismatch',
      line: recorded.seq,
      seq: recorded.seq,
      message: `line ${recorded.seq} (seq ${recorded.seq}): hash ${short(atHead?.hash ?? '')} differs from the head's ${short(recorded.hash)}: the tail from seq ${recorded.seq} was replaced`,
    });
  }
  if (recorded.seq < last.seq) {
    if (last.seq - recorded.seq === 1) {
      warnings.push(
        `head records seq ${recorded.seq}, one behind the last entry (seq ${last.seq}): an append was interrupted before it updated the head`,
      );
    } else {
      return fail(file, lines.length, last, warnings, {
        kind: 'head-mismatch',
        line: recorded.seq + 1,
        seq: recorded.seq + 1,
        message: `ledger head records seq ${recorded.seq} but the file goes on to seq ${last.seq}: seq ${recorded.seq + 1}-${last.seq} were appended without the lock`,
      });
    }
  }
  return { ok: true, file, entries: lines.length, ...(last ? { last } : {}), mismatches: [], warnings };
}

async function readHeadForVerify(file: string): Promise<{ value?: Head; problem?: string }> {
  try {
    const value = await readHead(file);
    return value ? { value } : {};
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

function fail(
  file: string,
  goodEntries: number,
  last: { seq: number; hash: string } | undefined,
  warnings: string[],
  problem: LedgerProblem,
): LedgerReport {
  return { ok: false, file, entries: goodEntries, ...(last ? { last } : {}), problem, mismatches: [], warnings };
}

function short(hash: string): string {
  return hash ? `${hash.slice(0, 12)}…` : '(none)';
}

// ---------------------------------------------------------------------------------------------------------------
// Locking: an in-process queue per path, then an exclusive lock file (open 'wx') holding the owner's pid, host and a
// token. A lock whose owner process is gone (same host), or older than `staleMs`, is broken by renaming it aside.

const queues = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** Give up (retryably) after waiting this long. Default 15 s. */
  timeoutMs?: number;
  /** A lock file older than this is considered abandoned. Default 60 s. */
  staleMs?: number;
}

export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const key = path.resolve(lockPath);
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => holdFileLock(key, work, options));
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function holdFileLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 60_000;
  const token = `${process.pid}@${hostname()}#${randomBytes(8).toString('hex')}`;
  const content = JSON.stringify({ pid: process.pid, host: hostname(), token, at: new Date().toISOString() });
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(content, 'utf8');
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    if (await breakIfStale(lockPath, staleMs)) continue;
    if (Date.now() > deadline) {
      throw new LedgerBusyError(
        `lock ${lockPath}: expected to acquire it within ${timeoutMs} ms, received none (held by another writer)`,
      );
    }
    await sleep(Math.min(50, 2 + attempt) + Math.random() * 10);
  }
  try {
    return await work();
  } finally {
    // Best effort: a lock left behind is broken once its owner is gone or it is older than staleMs.
    await releaseLock(lockPath, content).catch(() => undefined);
  }
}

async function releaseLock(lockPath: string, content: string): Promise<void> {
  if ((await readFile(lockPath, 'utf8')) === content) await unlink(lockPath);
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let text: string;
  let age: number;
  try {
    text = await readFile(lockPath, 'utf8');
    age = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  let owner: { pid?: unknown; host?: unknown } = {};
  try {
    owner = JSON.parse(text) as typeof owner;
  } catch {
    // Being written right now, or garbage: only age can tell.
  }
  const ownerGone = owner.host === hostname() && typeof owner.pid === 'number' && !processAlive(owner.pid);
  if (!ownerGone && age < staleMs) return false;
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  // Between our read and the rename another writer may have broken the same lock and taken a fresh one: put it back.
  if ((await readFile(aside, 'utf8')) !== text) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return true;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// What the actions record

export interface EvidenceLedgerInput {
  incidentId: string;
  stepId: string;
  idempotencyKey: string;
  at: Date;
  snapshot: { archive: string; manifest: string; sha256: string; files: number; bytes: number };
}

/** Records an evidence snapshot: archive path and SHA-256, manifest path and SHA-256. Once per key. */
export async function recordEvidenceSnapshot(dataDir: string, input: EvidenceLedgerInput): Promise<LedgerEntry> {
  const manifestSha256 = createHash('sha256')
    .update(await readFile(input.snapshot.manifest))
    .digest('hex');
  const { entry } = await appendLedger(ledgerFile(dataDir), {
    incidentId: input.incidentId,
    kind: 'evidence.snapshot',
    key: `evidence.snapshot:${input.idempotencyKey}`,
    at: input.at,
    data: {
      stepId: input.stepId,
      archive: input.snapshot.archive,
      sha256: input.snapshot.sha256,
      manifest: input.snapshot.manifest,
      manifestSha256,
      files: input.snapshot.files,
      bytes: input.snapshot.bytes,
    },
  });
  return entry;
}
