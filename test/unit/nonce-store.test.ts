// The shared nonce store: two API processes (two stores on one directory) accept a nonce once between them, a restart
// forgets nothing, expired nonces are reusable, and a store full of live nonces refuses instead of forgetting.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileNonceStore, NonceCache, NonceStoreFullError } from '../../src/api/signatures';

const root = mkdtempSync(path.join(os.tmpdir(), 'nonces-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('FileNonceStore', () => {
  it('is shared by every process on the directory and survives a restart', () => {
    const dir = path.join(root, 'shared');
    const a = new FileNonceStore(dir);
    const b = new FileNonceStore(dir);
    expect(a.remember('k1', 'n'.repeat(16), 2_000, 1_000)).toBe(true);
    expect(b.remember('k1', 'n'.repeat(16), 2_000, 1_000)).toBe(false);
    expect(new FileNonceStore(dir).remember('k1', 'n'.repeat(16), 2_000, 1_500)).toBe(false);
    expect(b.remember('k2', 'n'.repeat(16), 2_000, 1_000)).toBe(true); // per key
    expect(a.remember('k1', 'n'.repeat(16), 9_000, 2_001)).toBe(true); // expired: usable again
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses when full of live nonces, and accepts again once some expire', () => {
    const store = new FileNonceStore(path.join(root, 'full'), 3);
    for (const n of ['a', 'b', 'c']) expect(store.remember('k', n.repeat(16), 5_000, 1_000)).toBe(true);
    expect(() => store.remember('k', 'd'.repeat(16), 5_000, 1_000)).toThrow(NonceStoreFullError);
    expect(store.remember('k', 'a'.repeat(16), 5_000, 1_000)).toBe(false); // a replay is still a replay
    expect(store.remember('k', 'd'.repeat(16), 9_000, 5_001)).toBe(true);
  });
});

describe('NonceCache (one process)', () => {
  it('refuses rather than evicting a live nonce', () => {
    const cache = new NonceCache(2);
    expect(cache.remember('k', 'a', 5_000, 1_000)).toBe(true);
    expect(cache.remember('k', 'b', 5_000, 1_000)).toBe(true);
    expect(() => cache.remember('k', 'c', 5_000, 1_000)).toThrow(/nonce store holds 2 live nonces/);
    expect(cache.remember('k', 'a', 5_000, 1_000)).toBe(false);
  });
});
