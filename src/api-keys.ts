// API keys: roles, creation, revocation and verification. Keys are stored hashed (SHA-256 of the secret with a
// per-key salt) in `<dataDir>/api-keys.json`, mode 0600; the full key is shown once, when it is created. A key's
// optional signing secret (for HMAC-signed webhooks) is stored as given, because verifying a signature needs it.
// This module must never log or return a key's secret after creation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../domain/issues';

import { MAX_RUNBOOK_ROLES } from '../domain/messages';
import { API_ROLES, ApiRole } from '../domain/roles';

export { API_ROLES, ApiRole };

/** What each role may do. `command`: approve destructive steps and resolve P0 incidents. */
export const PERMISSIONS = ['read', 'open', 'steer', 'command', 'alert'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Record<ApiRole, readonly Permission[]> = {
  viewer: ['read'],
  detector: ['alert'],
  operator: ['read', 'open', 'steer'],
  commander: ['read', 'open', 'steer', 'command', 'alert'],
};

export function roleMay(role: ApiRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The roles that hold a permission, for error messages. */
export function rolesWith(permission: Permission): ApiRole[] {
  return API_ROLES.filter((role) => roleMay(role, permission));
}

export const KeyName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'expected a key name of up to 64 letters, digits, ".", "_", "@" and "-", like "alertmanager" or "alice"',
  );

/** A runbook role, as runbooks name them in approval and task roles. */
export const RunbookRole = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'expected a runbook role like "incident-commander" (lower case, digits, "-")');

const StoredKey = z
  .object({
    id: z.string().regex(/^[0-9a-f]{12}$/),
    name: KeyName,
    role: ApiRole,
    salt: z.string().regex(/^[0-9a-f]{32}$/),
    /** hex SHA-256 of salt bytes followed by the secret's UTF-8 bytes. */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string(),
    /** HMAC-SHA256 secret for signed webhooks; when present, this key's intake requests must be signed. */
    signingSecret: z.string().min(32).optional(),
    /** This detector may acknowledge (PagerDuty `acknowledge`) the incidents its own alerts opened. */
    acknowledges: z.literal(true).optional(),
    /** The runbook roles (incident-commander, legal-counsel...) this key may act in; absent: not bound. */
    runbookRoles: z.array(RunbookRole).max(MAX_RUNBOOK_ROLES).optional(),
  })
  .strict();
export type StoredKey = z.infer<typeof StoredKey>;

const KeysFile = z.object({ version: z.literal(1), keys: z.array(StoredKey) }).strict();

/** The public part of a key: what the server knows about the caller. */
export interface ApiPrincipal {
  id: string;
  name: string;
  role: ApiRole;
  signingSecret?: string;
  /** May send intake acknowledgements (PagerDuty `acknowledge`) for its own incidents. */
  acknowledges?: true;
  /** The runbook roles the key may act in, when it is bound to some. */
  runbookRoles?: string[];
}

export interface CreatedKey {
  runbookRoles?: string[];
  /** The full key, `iek_<id>_<secret>`: shown once, never stored. */
  key: string;
  id: string;
  name: string;
  role: ApiRole;
  signingSecret?: string;
  acknowledges?: true;
}

const KEY_PATTERN = /^iek_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

function hashSecret(salt: string, secret: string): Buffer {
  return createHash('sha256').update(Buffer.from(salt, 'hex')).update(secret, 'utf8').digest();
}

export class ApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyError';
  }
}

/** Reads and writes the keys file. The server only reads it, re-reading when the file changes on disk. */
export class ApiKeyStore {
  private cache: { mtimeMs: number; size: number; keys: Map<string, StoredKey> } | undefined;
  private lastCheck = 0;

  constructor(
    readonly file: string,
    /** How often (ms) the server looks whether the file changed (new or revoked keys). */
    private readonly recheckMs = 1_000,
  ) {}

  private read(): StoredKey[] {
    if (!existsSync(this.file)) return [];
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (error) {
      throw new ApiKeyError(`cannot read API keys from ${this.file}: ${(error as Error).message}`);
    }
    const parsed = KeysFile.safeParse(value);
    if (!parsed.success) {
      throw new ApiKeyError(`API keys file ${this.file} is invalid: ${formatIssues(parsed.error.issues, 'file')}`);
    }
    return parsed.data.keys;
  }

  private write(keys: StoredKey[]): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.cache = undefined;
  }

  list(): Omit<StoredKey, 'salt' | 'hash' | 'signingSecret'>[] {
    return this.read().map(({ id, name, role, createdAt, runbookRoles }) => ({
      id,
      name,
      role,
      createdAt,
      ...(runbookRoles ? { runbookRoles } : {}),
    }));
  }

  hasRole(role: ApiRole): boolean {
    return this.read().some((k) => k.role === role);
  }

  create(options: {
    name: string;
    role: ApiRole;
    signing?: boolean;
    runbookRoles?: string[];
    acknowledges?: boolean;
  }): CreatedKey {
    const parsedRoles = z.array(RunbookRole).max(MAX_RUNBOOK_ROLES).optional().safeParse(options.runbookRoles);
    if (!parsedRoles.success) {
      throw new ApiKeyError(`--runbook-role: ${parsedRoles.error.issues.map((i) => i.message).join('; ')}`);
    }
    const runbookRoles = parsedRoles.data ? [...new Set(parsedRoles.data)] : undefined;
    const parsedName = KeyName.safeParse(options.name);
    if (!parsedName.success)
      throw new ApiKeyError(`--name ${JSON.stringify(options.name)}: ${parsedName.error.issues[0]!.message}`);
    const parsedRole = ApiRole.safeParse(options.role);
    if (!parsedRole.success)
      throw new ApiKeyError(`--role ${JSON.stringify(options.role)}: ${parsedRole.error.issues[0]!.message}`);
    const name = parsedName.data;
    const role = parsedRole.data;
    const keys = this.read();
    // Names are what timelines record (`by`): two that differ only in case would read as one person.
    const same = keys.find((k) => k.name.toLowerCase() === name.toLowerCase());
    if (same) {
      throw new ApiKeyError(
        same.name === name
          ? `an API key named "${name}" already exists; revoke it first or choose another name`
          : `an API key named "${same.name}" already exists, and "${name}" differs from it only in case; ` +
              'choose another name',
      );
    }
    let id: string;
    do id = randomBytes(6).toString('hex');
    while (keys.some((k) => k.id === id));
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16).toString('hex');
    const signingSecret = options.signing ? randomBytes(32).toString('base64url') : undefined;
    keys.push({
      id,
      name,
      role,
      salt,
      hash: hashSecret(salt, secret).toString('hex'),
      createdAt: new Date().toISOString(),
      ...(signingSecret ? { signingSecret } : {}),
      ...(options.acknowledges ? { acknowledges: true as const } : {}),
      ...(runbookRoles ? { runbookRoles } : {}),
    });
    this.write(keys);
    return {
      key: `iek_${id}_${secret}`,
      id,
      name,
      role,
      ...(signingSecret ? { signingSecret } : {}),
      ...(options.acknowledges ? { acknowledges: true as const } : {}),
      ...(runbookRoles ? { runbookRoles } : {}),
    };
  }

  /** Removes a key by id or name; returns what was removed. */
  revoke(idOrName: string): Omit<StoredKey, 'salt' | 'hash' | 'signingSecret'> {
    const keys = this.read();
    const found = keys.find((k) => k.id === idOrName || k.name === idOrName);
    if (!found) throw new ApiKeyError(`no API key with id or name "${idOrName}"`);
    this.write(keys.filter((k) => k !== found));
    return { id: found.id, name: found.name, role: found.role, createdAt: found.createdAt };
  }

  private current(): Map<string, StoredKey> {
    const now = Date.now();
    if (this.cache && now - this.lastCheck < this.recheckMs) return this.cache.keys;
    this.lastCheck = now;
    let stat: { mtimeMs: number; size: number } | undefined;
    try {
      stat = statSync(this.file);
    } catch {
      stat = undefined;
    }
    if (!stat) {
      this.cache = { mtimeMs: 0, size: 0, keys: new Map() };
      return this.cache.keys;
    }
    if (this.cache && this.cache.mtimeMs === stat.mtimeMs && this.cache.size === stat.size) return this.cache.keys;
    this.cache = { mtimeMs: stat.mtimeMs, size: stat.size, keys: new Map(this.read().map((k) => [k.id, k])) };
    return this.cache.keys;
  }

  /** The key's principal when `presented` is a valid key, else undefined. Constant-time on the secret. */
  authenticate(presented: string): ApiPrincipal | undefined {
    const match = KEY_PATTERN.exec(presented.trim());
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const stored = this.current().get(id);
    if (!stored) return undefined;
    const expected = Buffer.from(stored.hash, 'hex');
    if (!timingSafeEqual(hashSecret(stored.salt, secret), expected)) return undefined;
    return {
      id: stored.id,
      name: stored.name,
      role: stored.role,
      ...(stored.signingSecret ? { signingSecret: stored.signingSecret } : {}),
      ...(stored.acknowledges ? { acknowledges: true as const } : {}),
      ...(stored.runbookRoles ? { runbookRoles: stored.runbookRoles } : {}),
    };
  }
}

export interface AdminKeyResult {
  created: boolean;
  /** Where the first commander key was written (it exists only when `created` or left from an earlier first run). */
  file: string;
}

/**
 * On first run: when no commander key exists, creates one named `admin` and writes it to `adminFile` (mode 0600), so
 * the person who started the engine can read it and nobody else on the machine can.
 */
export function ensureAdminKey(store: ApiKeyStore, adminFile: string): AdminKeyResult {
  if (store.hasRole('commander')) return { created: false, file: adminFile };
  const taken = new Set(store.list().map((k) => k.name));
  let name = 'admin';
  for (let n = 2; taken.has(name); n++) name = `admin-${n}`;
  const created = store.create({ name, role: 'commander' });
  mkdirSync(path.dirname(adminFile), { recursive: true });
  writeFileSync(adminFile, `${created.key}\n`, { mode: 0o600 });
  chmodSync(adminFile, 0o600);
  return { created: true, file: adminFile };
}

/** The mode bits of a file, for tests and for warning about a readable keys file. */
export function fileMode(file: string): number {
  return statSync(file).mode & 0o777;
}
