// API keys and webhook signatures without a server: keys are stored hashed with a per-key salt in a 0600 file, verify
// only with the exact secret, can be revoked (seen by a running store), and the first admin key is made once; HMAC
// signatures refuse wrong, stale and replayed requests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/api/errors';
import { ApiKeyStore, ensureAdminKey, fileMode, roleMay } from '../../src/api-keys';
import { NonceCache, signPayload, verifySignedRequest } from '../../src/api/signatures';
import { tempDir } from '../helpers/incident-fixtures';

describe('ApiKeyStore', () => {
  it('stores keys hashed, verifies them, and sees revocations', () => {
    const file = path.join(tempDir('keys'), 'api-keys.json');
    const store = new ApiKeyStore(file, 0);
    const created = store.create({ name: 'alice', role: 'operator' });
    expect(created.key).toMatch(/^iek_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(file, 'utf8')).not.toContain(created.key.slice('iek_'.length + 13));
    expect(fileMode(file)).toBe(0o600);
    expect(store.authenticate(created.key)).toEqual({ id: created.id, name: 'alice', role: 'operator' });
    expect(store.authenticate(`${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(() => store.create({ name: 'alice', role: 'viewer' })).toThrow('an API key named "alice" already exists');
    // A name that differs only in case would read as the same person on a timeline.
    expect(() => store.create({ name: 'ALICE', role: 'viewer' })).toThrow(
      'an API key named "alice" already exists, and "ALICE" differs from it only in case',
    );
    expect(() => store.create({ name: 'bob', role: 'root' as never })).toThrow(
      '--role "root": expected a role: viewer, detector, operator, commander',
    );
    expect(store.revoke('alice')).toMatchObject({ name: 'alice' });
    expect(store.authenticate(created.key)).toBeUndefined();
  });

  it('makes the first commander key once, in a 0600 file', () => {
    const dir = tempDir('admin');
    const store = new ApiKeyStore(path.join(dir, 'api-keys.json'), 0);
    const first = ensureAdminKey(store, path.join(dir, 'admin-key.txt'));
    expect(first.created).toBe(true);
    expect(fileMode(first.file)).toBe(0o600);
    const key = readFileSync(first.file, 'utf8').trim();
    expect(store.authenticate(key)).toMatchObject({ name: 'admin', role: 'commander' });
    expect(ensureAdminKey(store, path.join(dir, 'admin-key.txt')).created).toBe(false);
  });

  it('gives each role its permissions', () => {
    expect(roleMay('detector', 'alert')).toBe(true);
    expect(roleMay('detector', 'read')).toBe(false);
    expect(roleMay('operator', 'steer')).toBe(true);
    expect(roleMay('operator', 'command')).toBe(false);
    expect(roleMay('commander', 'command')).toBe(true);
    expect(roleMay('viewer', 'steer')).toBe(false);
  });
});

describe('verifySignedRequest', () => {
  const secret = 's'.repeat(43);
  const now = 1_800_000_000_000;
  const ts = now / 1000;
  const body = '{"a":1}';
  const check = (headers: Record<string, string>, nonces = new NonceCache()) =>
    verifySignedRequest({ keyId: 'k', secret, headers, rawBody: body, nowMs: now, toleranceSeconds: 300, nonces });
  const headers = (nonce: string, t = ts, b = body) => ({
    'x-incident-timestamp': String(t),
    'x-incident-nonce': nonce,
    'x-incident-signature': signPayload(secret, t, nonce, b),
  });
  const code = (f: () => void) => {
    try {
      f();
      return 'accepted';
    } catch (error) {
      return (error as ApiError).error;
    }
  };

  it('accepts a fresh signed request once', () => {
    const nonces = new NonceCache();
    expect(code(() => check(headers('n'.repeat(16)), nonces))).toBe('accepted');
    expect(code(() => check(headers('n'.repeat(16)), nonces))).toBe('replayed_nonce');
    expect(code(() => check(headers('m'.repeat(16)), nonces))).toBe('accepted');
  });

  it('refuses wrong, stale and malformed signatures without remembering their nonces', () => {
    const nonces = new NonceCache();
    expect(code(() => check({}, nonces))).toBe('signature_required');
    expect(code(() => check(headers('a'.repeat(16), ts, '{"a":2}'), nonces))).toBe('bad_signature');
    expect(code(() => check(headers('a'.repeat(16), ts - 301), nonces))).toBe('stale_timestamp');
    expect(code(() => check(headers('a'.repeat(16), ts + 301), nonces))).toBe('stale_timestamp');
    expect(code(() => check(headers('short'), nonces))).toBe('bad_nonce');
    // The refused attempts did not burn the nonce.
    expect(code(() => check(headers('a'.repeat(16)), nonces))).toBe('accepted');
  });
});
