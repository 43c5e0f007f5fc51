// The payload-encryption keys (AES-256): from INCIDENT_ENGINE_CODEC_KEYS (`id=base64,...`), from the file
// INCIDENT_ENGINE_CODEC_KEYS_FILE names, or from <dataDir>/codec-keys.json, which is created with one fresh key at
// first use (mode 0600). Several keys may be listed: the last (newest) encrypts, every one decrypts, so a rotation
// appends a key and keeps the old ones for the histories they wrote.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writePrivateFile } from '../files/private';

export const CODEC_KEYS_ENV = 'INCIDENT_ENGINE_CODEC_KEYS';
export const CODEC_KEYS_FILE_ENV = 'INCIDENT_ENGINE_CODEC_KEYS_FILE';
export const KEY_BYTES = 32;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** The keys in age order: `keys.at(-1)` encrypts. */
export interface CodecKeyring {
  keys: CodecKey[];
  /** Where they came from, for messages: a file path or the environment variable's name. */
  source: string;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KeyFile = z
  .object({
    version: z.literal(1),
    keys: z
      .array(
        z
          .object({
            id: z.string().regex(KEY_ID, 'expected a key id of 1-64 letters, digits, ".", "_" or "-"'),
            key: z.base64('expected the key as base64'),
            createdAt: z.string().optional(),
          })
          .strict(),
      )
      .min(1, 'expected at least one key'),
  })
  .strict();
type KeyFile = z.infer<typeof KeyFile>;

function toKey(id: string, base64: string, where: string): CodecKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`${where}: key "${id}" is ${key.length} bytes; expected ${KEY_BYTES} (AES-256), base64-encoded`);
  }
  return { id, key };
}

function checkUnique(keys: CodecKey[], where: string): CodecKey[] {
  const seen = new Set<string>();
  for (const { id } of keys) {
    if (seen.has(id)) throw new Error(`${where}: key id "${id}" is listed twice; expected each id once`);
    seen.add(id);
  }
  return keys;
}

/** Parses `id=base64,id=base64` (the last is the newest). */
export function parseKeyList(text: string, where = CODEC_KEYS_ENV): CodecKey[] {
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${where}: expected id=base64key[,id=base64key...], received nothing`);
  return checkUnique(
    entries.map((entry) => {
      const at = entry.indexOf('=');
      const id = at > 0 ? entry.slice(0, at) : '';
      if (!KEY_ID.test(id)) {
        throw new Error(
          `${where}: expected id=base64key with an id of letters, digits, ".", "_" or "-", got "${entry.slice(0, 20)}..."`,
        );
      }
      return toKey(id, entry.slice(at + 1), where);
    }),
    where,
  );
}

function readKeyFile(file: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read codec keys from ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = KeyFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`codec keys file ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function newKeyId(now = new Date()): string {
  return `k${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
}

/** Appends a fresh key to `file` (creating it, 0600, when missing); it encrypts from the next start on. */
export function addCodecKey(file: string, now = new Date()): { id: string; count: number } {
  const current: KeyFile = existsSync(file) ? readKeyFile(file) : { version: 1, keys: [] };
  const id = newKeyId(now);
  current.keys.push({ id, key: randomBytes(KEY_BYTES).toString('base64'), createdAt: now.toISOString() });
  writePrivateFile(file, `${JSON.stringify(current, null, 2)}\n`);
  return { id, count: current.keys.length };
}

/** First start: one fresh key, written so that of two processes starting at once, one file wins and both read it. */
function createKeyFile(file: string): void {
  const now = new Date();
  const content: KeyFile = {
    version: 1,
    keys: [{ id: newKeyId(now), key: randomBytes(KEY_BYTES).toString('base64'), createdAt: now.toISOString() }],
  };
  const tmp = `${file}.${process.pid}.new`;
  writePrivateFile(tmp, `${JSON.stringify(content, null, 2)}\n`);
  try {
    linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function defaultKeysFile(dataDir: string): string {
  return path.join(dataDir, 'codec-keys.json');
}

/** The file that holds the keys when they do not come from the environment. */
export function codecKeysFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[CODEC_KEYS_FILE_ENV] ? path.resolve(env[CODEC_KEYS_FILE_ENV]) : defaultKeysFile(dataDir);
}

/**
 * The keyring: the environment's list, else the named file (which must exist), else <dataDir>/codec-keys.json,
 * created with one key when missing.
 */
export function loadCodecKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): CodecKeyring {
  const inline = env[CODEC_KEYS_ENV];
  if (inline) return { keys: parseKeyList(inline), source: CODEC_KEYS_ENV };
  const file = codecKeysFile(dataDir, env);
  if (!existsSync(file)) {
    if (env[CODEC_KEYS_FILE_ENV])
      throw new Error(`codec keys file ${file} (from ${CODEC_KEYS_FILE_ENV}) does not exist`);
    createKeyFile(file);
  }
  const parsed = readKeyFile(file);
  return {
    keys: checkUnique(
      parsed.keys.map((k) => toKey(k.id, k.key, file)),
      file,
    ),
    source: file,
  };
}
