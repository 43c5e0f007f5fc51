// Authentication and authorization of every API request. A key comes as `Authorization: Bearer <key>` or
// `X-API-Key: <key>` (PagerDuty senders may put it in the body's `routing_key`); each route declares the permission it
// needs, and anything not declared public needs a key (deny by default). Keys whose record has a signing secret must
// also sign their intake requests (HMAC, see signatures.ts). Checked before the body is read, except where the key
// is in the body. The console signs in once with a key and then sends a session cookie instead (session.ts); such
// requests must carry the session's CSRF token on every state change. Never echoes a presented key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors';
import { type ApiKeyStore, type ApiPrincipal, type Permission, roleMay, rolesWith } from '../api-keys';
import { CSRF_HEADER, SESSION_COOKIE, type SessionStore, csrfMatches, readCookie } from './session';
import { type NonceStore, verifySignedRequest } from './signatures';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once its key checked out. */
    principal?: ApiPrincipal;
    /** Set when a key was presented and did not check out. */
    presentedInvalidKey?: boolean;
    /** The body exactly as received (JSON routes), for signatures. */
    rawBody?: string;
    /** Set when the caller came with a console session cookie instead of a key. */
    consoleSession?: { id: string; csrf: string };
    /** Set when a session cookie was sent whose session is gone (expired, signed out, API restarted). */
    staleSession?: boolean;
  }
  interface FastifyContextConfig {
    /** What the route needs; `public` needs no key. Routes without it need a key of any role. */
    permission?: Permission | 'public';
    /** The key may come in the JSON body's `routing_key` (PagerDuty Events API v2 senders). */
    routingKeyAuth?: boolean;
    /** Keys with a signing secret must sign requests to this route. */
    signed?: boolean;
  }
}

const WHAT: Record<Permission, string> = {
  read: 'read incidents',
  open: 'open incidents',
  steer: 'steer incidents (updates)',
  command: 'approve steps of destructive actions or resolve a P0 incident',
  alert: 'post alerts',
};

export function requirePermission(principal: ApiPrincipal, permission: Permission, what = WHAT[permission]): void {
  if (!roleMay(principal.role, permission)) {
    throw new ApiError(
      403,
      'forbidden',
      `key "${principal.name}" has role ${principal.role}, which may not ${what}; that needs a ${rolesWith(permission).join(' or ')} key`,
    );
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : authorization;
  }
  const header = request.headers['x-api-key'];
  return Array.isArray(header) ? header[0] : header;
}

const MISSING = 'expected an API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"';
const INVALID = 'the API key is not valid (unknown, revoked or mistyped)';
const STALE =
  'the console session has ended (expired, signed out, its key revoked, or the API restarted); sign in again';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthOptions {
  keys: ApiKeyStore;
  nonces: NonceStore;
  toleranceSeconds: number;
  now: () => number;
  sessions: SessionStore;
}

/** The page's own origin as the browser names it, to refuse state changes sent from another site. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return origin === undefined || origin === `${request.protocol}://${request.host}`;
}

/** Resolves the caller on every request; call before registering the rate limiter, which keys on the caller. */
export function registerAuthentication(app: FastifyInstance, options: AuthOptions): void {
  app.addHook('onRequest', async (request) => {
    const key = presentedKey(request);
    if (key === undefined) {
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (sessionId === undefined) return;
      const session = options.sessions.get(sessionId);
      const principal = session && options.keys.authenticate(session.key);
      if (session && principal) {
        request.principal = principal;
        request.consoleSession = { id: sessionId, csrf: session.csrf };
      } else {
        if (session) options.sessions.delete(sessionId);
        request.staleSession = true;
      }
      return;
    }
    const principal = options.keys.authenticate(key);
    if (principal) request.principal = principal;
    else request.presentedInvalidKey = true;
  });
}

/** Enforces each route's permission (after the rate limiter) and signatures (once the raw body is there). */
export function registerAuthorization(app: FastifyInstance, options: AuthOptions): void {
  app.addHook('preParsing', async (request) => {
    const { permission, routingKeyAuth } = request.routeOptions.config;
    // A cookie rides along on requests other sites make: every state change needs the session's token too.
    if (request.consoleSession && !SAFE_METHODS.has(request.method)) {
      if (!sameOrigin(request) || !csrfMatches(request.headers[CSRF_HEADER], request.consoleSession.csrf)) {
        throw new ApiError(
          403,
          'csrf',
          `a console request that changes something must come from the console's own page with its ${CSRF_HEADER} header`,
        );
      }
    }
    if (permission === 'public' || request.is404) return;
    if (request.presentedInvalidKey) throw new ApiError(401, 'unauthorized', INVALID);
    if (request.staleSession) throw new ApiError(401, 'unauthorized', STALE);
    if (!request.principal) {
      if (routingKeyAuth) return; // the body's routing_key, checked in preValidation
      throw new ApiError(401, 'unauthorized', MISSING);
    }
    if (permission) requirePermission(request.principal, permission);
  });

  app.addHook('preValidation', async (request) => {
    const { permission, routingKeyAuth, signed } = request.routeOptions.config;
    if (permission === 'public' || request.is404) return;
    if (!request.principal && routingKeyAuth) {
      const body = request.body as { routing_key?: unknown } | undefined;
      const key = typeof body?.routing_key === 'string' ? body.routing_key : undefined;
      if (key === undefined) throw new ApiError(401, 'unauthorized', `${MISSING}, or put it in the body's routing_key`);
      const principal = options.keys.authenticate(key);
      if (!principal) throw new ApiError(401, 'unauthorized', `routing_key: ${INVALID}`);
      request.principal = principal;
      if (permission) requirePermission(principal, permission);
    }
    const principal = request.principal;
    if (signed && principal?.signingSecret) {
      verifySignedRequest({
        keyId: principal.id,
        secret: principal.signingSecret,
        headers: request.headers,
        rawBody: request.rawBody ?? '',
        nowMs: options.now(),
        toleranceSeconds: options.toleranceSeconds,
        nonces: options.nonces,
      });
    }
  });
}
