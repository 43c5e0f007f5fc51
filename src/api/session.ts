// Console sessions: signing in with an API key gives the browser an opaque session id in an HttpOnly, SameSite=Strict
// cookie (Secure under TLS) and a CSRF token that the page sends back in a header on every state change. The key
// stays in this process's memory, never in the browser after sign-in, and is checked again on every request, so a
// revoked key ends its sessions within the key store's recheck interval. Sessions live in memory: an API restart
// signs everyone out. Bounded in count and age.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'iec_session';
export const CSRF_HEADER = 'x-csrf-token';

interface Session {
  key: string;
  csrf: string;
  expiresAt: number;
}

export interface SessionOptions {
  now?: () => number;
  /** How long a session lasts after sign-in (default 12 h: one on-call shift). */
  ttlMs?: number;
  /** Most sessions kept; the oldest goes first beyond it. */
  max?: number;
}

/** Sessions by the SHA-256 of their id, so a heap dump does not hand out usable cookies. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  readonly ttlMs: number;
  private readonly max: number;

  constructor(options: SessionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 12 * 3_600_000;
    this.max = options.max ?? 10_000;
  }

  private static digest(id: string): string {
    return createHash('sha256').update(id).digest('hex');
  }

  /** A new session for a key already verified by the caller: the cookie value and the CSRF token. */
  create(key: string): { id: string; csrf: string } {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(SessionStore.digest(id), { key, csrf, expiresAt: this.now() + this.ttlMs });
    return { id, csrf };
  }

  /** The session of a cookie value, when it exists and has not expired. */
  get(id: string): { key: string; csrf: string } | undefined {
    const digest = SessionStore.digest(id);
    const session = this.sessions.get(digest);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(digest);
      return undefined;
    }
    return { key: session.key, csrf: session.csrf };
  }

  delete(id: string): void {
    this.sessions.delete(SessionStore.digest(id));
  }
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a session; `maxAgeSeconds` 0 clears it. */
export function sessionCookie(value: string, secure: boolean, maxAgeSeconds?: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    ...(maxAgeSeconds !== undefined ? [`Max-Age=${maxAgeSeconds}`] : []),
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
