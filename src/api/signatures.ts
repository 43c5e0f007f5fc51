// HMAC-SHA256 signatures on detector webhooks. The sender signs `<timestamp>.<nonce>.<raw body>` with the key's
// signing secret; we refuse a missing or wrong signature, a timestamp outside the tolerance, and a nonce seen before
// within it (a replay). A nonce is remembered only after its signature checked out, so nobody can burn another
// sender's nonces. The store is shared by every API process (files in the data directory) and refuses rather than
// forgets when full. Never compares secrets or signatures with `===`.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../files/private';
import { ApiError } from './errors';

export const SIGNATURE_HEADER = 'x-incident-signature';
export const TIMESTAMP_HEADER = 'x-incident-timestamp';
export const NONCE_HEADER = 'x-incident-nonce';

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

/** `sha256=<hex>` over `${timestamp}.${nonce}.${body}`. */
export function signPayload(secret: string, timestamp: string | number, nonce: string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.${nonce}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** Where signed requests' nonces are remembered until their timestamp leaves the tolerance window. */
export interface NonceStore {
  /** Records the nonce; false when it is already there and live (a replay). Throws NonceStoreFullError when full. */
  remember(keyId: string, nonce: string, expiresAt: number, now: number): boolean;
}

/** Every slot holds a live nonce: refusing is the only safe answer (forgetting one would let its replay in). */
export class NonceStoreFullError extends ApiError {
  constructor(max: number) {
    super(
      503,
      'nonce_store_full',
      `the nonce store holds ${max} live nonces, its limit; signed requests are refused until some expire (retry in a minute)`,
    );
  }
}

/** In memory, per process: for a single API process or tests. Refuses when full of live nonces. */
export class NonceCache implements NonceStore {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  remember(keyId: string, nonce: string, expiresAt: number, now: number): boolean {
    const id = `${keyId}:${nonce}`;
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return false;
    if (until === undefined && this.seen.size >= this.maxEntries) {
      for (const [other, expiry] of this.seen) if (expiry <= now) this.seen.delete(other);
      if (this.seen.size >= this.maxEntries) throw new NonceStoreFullError(this.maxEntries);
    }
    this.seen.set(id, expiresAt);
    return true;
  }
}

/**
 * Nonces as files in a directory every API process on the host shares (`<dataDir>/nonces`): one file per nonce,
 * created with O_EXCL, so of two processes receiving the same replay exactly one accepts it, and a restart forgets
 * nothing. The file name is a hash of key id and nonce; its content the expiry. Refuses when full of live nonces.
 */
export class FileNonceStore implements NonceStore {
  private count: number | undefined;

  constructor(
    readonly dir: string,
    private readonly maxEntries = 100_000,
  ) {
    ensurePrivateDir(dir);
  }

  remember(keyId: string, nonce: string, expiresAt: number, now: number): boolean {
    const file = path.join(this.dir, createHash('sha256').update(`${keyId}\n${nonce}`).digest('hex'));
    // A replay is a replay even when the store is full.
    if (Number(readText(file)) > now) return false;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.count ??= this.prune(now);
      if (this.count >= this.maxEntries) {
        this.count = this.prune(now);
        if (this.count >= this.maxEntries) throw new NonceStoreFullError(this.maxEntries);
      }
      try {
        writeFileSync(file, String(expiresAt), { flag: 'wx', mode: 0o600 });
        this.count++;
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (Number(readText(file)) > now) return false;
      // Seen before but expired: a fresh use of an old nonce. Remove it and claim it again (O_EXCL decides a race).
      rmSync(file, { force: true });
    }
    return false;
  }

  /** Deletes expired nonces; returns how many live ones remain. */
  private prune(now: number): number {
    let live = 0;
    for (const name of readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      if (Number(readText(file)) > now) live++;
      else rmSync(file, { force: true });
    }
    return live;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface VerifyOptions {
  keyId: string;
  secret: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  nowMs: number;
  toleranceSeconds: number;
  nonces: NonceStore;
}

/** Throws ApiError 401 saying what is wrong; returns when the request is signed, fresh and new. */
export function verifySignedRequest(options: VerifyOptions): void {
  const { headers, secret, rawBody, nowMs, toleranceSeconds } = options;
  const signature = header(headers, SIGNATURE_HEADER);
  const timestamp = header(headers, TIMESTAMP_HEADER);
  const nonce = header(headers, NONCE_HEADER);
  const missing = [
    signature === undefined ? SIGNATURE_HEADER : undefined,
    timestamp === undefined ? TIMESTAMP_HEADER : undefined,
    nonce === undefined ? NONCE_HEADER : undefined,
  ].filter((h): h is string => h !== undefined);
  if (missing.length > 0) {
    throw new ApiError(
      401,
      'signature_required',
      `this key signs its requests: expected the header(s) ${missing.join(', ')}`,
    );
  }
  if (!/^\d{1,12}$/.test(timestamp!)) {
    throw new ApiError(
      401,
      'bad_timestamp',
      `expected ${TIMESTAMP_HEADER} in whole seconds since 1970, got ${JSON.stringify(timestamp)}`,
    );
  }
  if (!NONCE.test(nonce!)) {
    throw new ApiError(
      401,
      'bad_nonce',
      `expected ${NONCE_HEADER} of 16-128 letters, digits, "-" or "_", got ${JSON.stringify(nonce)}`,
    );
  }
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > toleranceSeconds) {
    throw new ApiError(
      401,
      'stale_timestamp',
      `${TIMESTAMP_HEADER} ${timestamp} is ${Math.round(skew)} s away from the server's clock; at most ${toleranceSeconds} s is accepted`,
    );
  }
  const expected = Buffer.from(signPayload(secret, timestamp!, nonce!, rawBody));
  const given = Buffer.from(signature!.trim());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(
      401,
      'bad_signature',
      `${SIGNATURE_HEADER} does not match: expected sha256=<hex HMAC-SHA256 of "<timestamp>.<nonce>.<raw body>" with the key's signing secret>`,
    );
  }
  const expiresAt = (Number(timestamp) + toleranceSeconds) * 1000 + 1_000;
  if (!options.nonces.remember(options.keyId, nonce!, Math.max(expiresAt, nowMs + 1_000), nowMs)) {
    throw new ApiError(401, 'replayed_nonce', `nonce ${nonce} was already used: a signed request is accepted once`);
  }
}
