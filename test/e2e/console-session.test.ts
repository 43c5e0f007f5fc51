// Console sessions over real HTTP, without a browser: signing in sets an HttpOnly SameSite=Strict cookie (Secure
// under TLS) holding no key; the cookie stands for the key and its role; every state change made with it needs the
// session's CSRF token and this server's origin, while header keys are unaffected; signing out or revoking the key
// ends it. Also the drill routes' validation and roles. None of these requests reaches Temporal, so the API runs on a
// client whose server does not exist.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, type CreatedKey } from '../../src/api-keys';
import { type RunningApi, startApiServer } from '../../src/api/server';
import { SessionStore, readCookie } from '../../src/api/session';
import { IncidentClient } from '../../src/client';
import { freePort } from '../../src/temporal/ports';
import { http } from '../helpers/api-env';
import { makeEngineConfig, tempDir } from '../helpers/incident-fixtures';

describe('console sessions', () => {
  const root = tempDir('console-session');
  let api: RunningApi;
  let proxied: RunningApi;
  let store: ApiKeyStore;
  let keys: Record<'viewer' | 'operator' | 'commander', CreatedKey>;
  let connection: Connection;

  beforeAll(async () => {
    store = new ApiKeyStore(path.join(root, 'api-keys.json'), 0);
    keys = {
      viewer: store.create({ name: 'viewer-1', role: 'viewer' }),
      operator: store.create({ name: 'operator-1', role: 'operator' }),
      commander: store.create({ name: 'commander-1', role: 'commander' }),
    };
    const address = `127.0.0.1:${await freePort()}`;
    connection = Connection.lazy({ address, connectTimeout: 1_000 });
    const config = makeEngineConfig(undefined, 'console-session');
    const options = {
      incidents: new IncidentClient(new Client({ connection, namespace: 'default' }), 'nowhere'),
      runbooks: new Map(),
      keys: store,
      temporalAddress: address,
      logger: { level: 'error' as const },
    };
    api = await startApiServer({ ...options, config: { ...config.api, host: '127.0.0.1', port: 0 } });
    proxied = await startApiServer({
      ...options,
      config: { ...config.api, host: '127.0.0.1', port: 0, trustProxy: true },
    });
  });

  afterAll(async () => {
    await api?.close();
    await proxied?.close();
    await connection?.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  async function signIn(key: string, url = api.url, headers: Record<string, string> = {}) {
    const res = await http<{ name: string; role: string; csrf: string; permissions: string[] }>(
      `${url}/console/session`,
      { body: { key }, headers },
    );
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { res, setCookie, cookie: `iec_session=${readCookie(setCookie.split(';')[0], 'iec_session')}` };
  }

  it('signs in with a valid key only, into an HttpOnly SameSite=Strict cookie that holds no key', async () => {
    const bad = await signIn('iek_000000000000_' + 'a'.repeat(43));
    expect(bad.res.status).toBe(401);
    expect(bad.setCookie).toBe('');

    const { res, setCookie } = await signIn(keys.operator.key);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ name: 'operator-1', role: 'operator', permissions: ['read', 'open', 'steer'] });
    expect(res.body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(setCookie).toMatch(/^iec_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    // The secret is base64url, so it may itself hold '_': everything after the id is the secret.
    expect(setCookie).not.toContain(keys.operator.key.split('_').slice(2).join('_'));

    const tls = await signIn(keys.operator.key, proxied.url, { 'x-forwarded-proto': 'https' });
    expect(tls.setCookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('refuses a sign-in posted from another site', async () => {
    const res = await http(`${api.url}/console/session`, {
      body: { key: keys.operator.key },
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'csrf' });
  });

  it('lets the cookie stand for its key, and needs the CSRF token and this origin on every state change', async () => {
    const { cookie, res } = await signIn(keys.operator.key);
    const csrf = res.body.csrf;
    const who = await http(`${api.url}/console/session`, { headers: { cookie } });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ name: 'operator-1', role: 'operator', csrf });

    // No token, a wrong token, or another origin: refused before anything runs.
    const body = { title: 'x', runbook: 'none' };
    for (const headers of <Record<string, string>[]>[
      { cookie },
      { cookie, 'x-csrf-token': 'A'.repeat(43) },
      { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' },
    ]) {
      const refused = await http(`${api.url}/incidents`, { body, headers });
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.body).toMatchObject({ error: 'csrf' });
    }
    // With the token (and the page's own origin) the request goes through to the route: here, no such runbook.
    const through = await http(`${api.url}/incidents`, {
      body,
      headers: { cookie, 'x-csrf-token': csrf, origin: api.url },
    });
    expect(through.status, through.text).toBe(422);
    // A key in a header needs no token.
    const withKey = await http(`${api.url}/incidents`, { body, key: keys.operator.key });
    expect(withKey.status).toBe(422);
  });

  it("carries the key's role: a viewer's session may read but not open", async () => {
    const { cookie, res } = await signIn(keys.viewer.key);
    const open = await http(`${api.url}/incidents`, {
      body: { title: 'x', runbook: 'none' },
      headers: { cookie, 'x-csrf-token': res.body.csrf },
    });
    expect(open.status).toBe(403);
    expect(String(open.body.message)).toContain('role viewer, which may not open incidents');
    const run = await http(`${api.url}/drills/malicious-file-upload/runs`, {
      body: {},
      headers: { cookie, 'x-csrf-token': res.body.csrf },
    });
    expect(run.status).toBe(403);
    const drills = await http<{ scenarios: { id: string; mode: string }[] }>(`${api.url}/drills`, {
      headers: { cookie },
    });
    expect(drills.status).toBe(200);
    expect(drills.body.scenarios.map((s) => s.id)).toContain('malicious-file-upload');
  });

  it('ends the session on sign-out and when its key is revoked', async () => {
    const a = await signIn(keys.operator.key);
    const out = await http(`${api.url}/console/sign-out`, {
      body: {},
      headers: { cookie: a.cookie, 'x-csrf-token': a.res.body.csrf },
    });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^iec_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    const after = await http(`${api.url}/console/session`, { headers: { cookie: a.cookie } });
    expect(after.status).toBe(401);
    expect(String(after.body.message)).toContain('session has ended');

    const b = await signIn(keys.commander.key);
    expect((await http(`${api.url}/console/session`, { headers: { cookie: b.cookie } })).status).toBe(200);
    store.revoke('commander-1');
    const revoked = await http(`${api.url}/console/session`, { headers: { cookie: b.cookie } });
    expect(revoked.status).toBe(401);
  });

  it('validates drill routes: scenario ids, run ids and unknown scenarios', async () => {
    const key = keys.operator.key;
    expect((await http(`${api.url}/drills/..%2Fetc/runs`, { key, body: {} })).status).toBe(400);
    const unknown = await http(`${api.url}/drills/no-such-drill/runs`, { key, body: {} });
    expect(unknown.status).toBe(404);
    expect(String(unknown.body.message)).toContain('known scenarios:');
    expect((await http(`${api.url}/drills/runs/xyz`, { key })).status).toBe(400);
    expect((await http(`${api.url}/drills/runs/0123456789ab`, { key })).status).toBe(404);
  });

  it('expires sessions after their lifetime', () => {
    let now = 1_000;
    const sessions = new SessionStore({ now: () => now, ttlMs: 60_000, max: 2 });
    const first = sessions.create('k1');
    expect(sessions.get(first.id)).toEqual({ key: 'k1', csrf: first.csrf });
    now += 60_000;
    expect(sessions.get(first.id)).toBeUndefined();
    // Bounded: the oldest goes first.
    const [a, b, c] = [sessions.create('a'), sessions.create('b'), sessions.create('c')];
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.get(b.id)?.key).toBe('b');
    expect(sessions.get(c.id)?.key).toBe('c');
  });
});
