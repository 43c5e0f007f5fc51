// HMAC-SHA256 signatures on detector webhooks. The sender signs `<timestamp>.<nonce>.<raw body>` with the key's
// signing secret; we refuse a missing or wrong signature, a timestamp outside the tolerance, and a nonce seen before
// within it (a replay). A nonce is remembered only after its signature checked out, so nobody can burn another
// sender's nonces. Never compares secrets or signatures with `===`.
import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** Nonces seen within the tolerance window, per key; entries expire with the window. In memory, per process. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** Records the nonce; false when it was already there (a replay). */
  remember(keyId: string, nonce: string, expiresAt: number, now: number): boolean {
    if (this.seen.size >= this.maxEntries) this.prune(now);
    const id = `${keyId}:${nonce}`;
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return false;
    this.seen.set(id, expiresAt);
    return true;
  }

  private prune(now: number): void {
    for (const [id, until] of this.seen) if (until <= now) this.seen.delete(id);
    // Still full of live nonces: drop the oldest half rather than grow without bound.
    if (this.seen.size >= this.maxEntries) {
      let drop = Math.floor(this.seen.size / 2);
      for (const id of this.seen.keys()) {
        if (drop-- <= 0) break;
        this.seen.delete(id);
      }
    }
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
  nonces: NonceCache;
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
