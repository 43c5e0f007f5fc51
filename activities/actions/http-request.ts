// http.request (a plain HTTP call to an allow-listed host), and the HTTP exchange every containment family uses: one
// request carrying an Idempotency-Key, its answer classified the way activities/notify/webhook.ts does it (2xx done;
// network error, timeout, 5xx, 408, 429 retryable; any other status final, 401/403 as an authentication failure).
// Must never retry by itself (Temporal owns retries), follow redirects (an allow-list would be escaped), or put
// secrets, header values or URL query strings into error messages or outputs (they end up in workflow history).
import { Context } from '@temporalio/activity';
import type { EngineConfig, HeaderValue } from '../../domain/config';
import type { ActionContext, Performers } from '../context';
import { InvalidActionInputError, NonRetryableActionError } from '../errors';

// --- Errors. Class names are failure types in workflow history: keep them stable. ---

/** The peer answered with a final status: 3xx, or 4xx other than 408 and 429 (or a status `expectStatus` excludes). */
export class HttpRejectedError extends NonRetryableActionError {
  override name = 'HttpRejectedError';
  constructor(
    message: string,
    readonly url: string,
    readonly status: number,
    readonly bodyExcerpt: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** 401 or 403: the configured credentials are missing, wrong or not allowed to do this. Retrying cannot fix it. */
export class HttpAuthError extends HttpRejectedError {
  override name = 'HttpAuthError';
}

/** Retryable: network error, timeout, 5xx, 408 or 429. `status` is absent when no response arrived. */
export class HttpUnavailableError extends Error {
  override name = 'HttpUnavailableError';
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** From a Retry-After header (delay-seconds), when the peer sent one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** http.request to a host that is not in `http.allowHosts`. */
export class HostNotAllowedError extends NonRetryableActionError {
  override name = 'HostNotAllowedError';
}

/** The action needs configuration that is absent: no `emergencyApi`, no connector for the action. */
export class ActionNotConfiguredError extends NonRetryableActionError {
  override name = 'ActionNotConfiguredError';
}

/** A header is configured as `{ fromEnv: NAME }` and NAME is not set (or empty) in the worker's environment. */
export class MissingSecretError extends NonRetryableActionError {
  override name = 'MissingSecretError';
}

/** A 2xx answer whose body is not what the action needs (not JSON, a field missing). */
export class UnexpectedResponseError extends NonRetryableActionError {
  override name = 'UnexpectedResponseError';
}

/** For `RetryPolicy.nonRetryableErrorTypes`, next to NON_RETRYABLE_ERROR_TYPES from activities/errors.ts. */
export const HTTP_NON_RETRYABLE_ERROR_TYPES: string[] = [
  HttpRejectedError.name,
  HttpAuthError.name,
  HostNotAllowedError.name,
  ActionNotConfiguredError.name,
  MissingSecretError.name,
  UnexpectedResponseError.name,
];

// --- Headers from configuration ---

/**
 * Resolves configured headers: literal values as they are, `{ fromEnv }` from `env` at call time. `where` names the
 * config field for messages (`connectors.firewall.headers`); a value never appears in a message.
 */
export function resolveHeaders(
  spec: Record<string, HeaderValue> | undefined,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec ?? {})) {
    if (typeof value === 'string') {
      headers[name] = value;
      continue;
    }
    const secret = env[value.fromEnv];
    if (secret === undefined || secret === '') {
      throw new MissingSecretError(
        `${where}.${name}: expected environment variable ${value.fromEnv} to hold the value, but it is ${secret === undefined ? 'not set' : 'empty'} in the worker's environment; set it where the worker runs (the value stays out of incident-engine.yaml)`,
      );
    }
    headers[name] = `${value.prefix ?? ''}${secret}`;
  }
  return headers;
}

// --- The exchange ---

export interface HttpCall {
  /** Who is calling, first in every message: `app.safeMode`, `network.blockSource via connector firewall`. */
  label: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON; undefined sends no body. */
  body?: unknown;
  /** Stable across retries of the same effect: `<incident>/<step>`. */
  idempotencyKey: string;
  /** Whole exchange, headers and body. Default 10 000 ms. */
  timeoutMs?: number;
  /** Statuses that count as success; any 2xx when absent. */
  expectStatus?: readonly number[];
  /** Where the credentials are configured, named when the peer answers 401/403. */
  credentialsAt?: string;
}

export interface HttpReply {
  status: number;
  /** Parsed JSON, or the text (at most EXCERPT_CHARS characters) when it is not JSON; null when empty. */
  body: unknown;
}

export const HTTP_USER_AGENT = 'incident-engine';
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
const EXCERPT_CHARS = 200;
/** Bytes of a response read at most; a bigger answer is cut here (an error body) or refused as not JSON. */
const RESPONSE_READ_LIMIT = 64 * 1024;

/** Sends one request. Resolves on an expected status; throws HttpUnavailableError (retryable) or a final error. */
export async function sendHttp(call: HttpCall): Promise<HttpReply> {
  const { url, target } = checkUrl(call.label, call.url);
  const method = call.method.toUpperCase();
  const timeoutMs = call.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidActionInputError(
      `${call.label}: timeoutMs: expected a positive integer, received ${String(timeoutMs)}`,
    );
  }
  if (typeof call.idempotencyKey !== 'string' || call.idempotencyKey.trim() === '') {
    throw new InvalidActionInputError(
      `${call.label}: idempotencyKey: expected a non-empty string, received ${JSON.stringify(call.idempotencyKey)}`,
    );
  }
  const hasBody = call.body !== undefined;
  if (hasBody && (method === 'GET' || method === 'HEAD')) {
    throw new InvalidActionInputError(`${call.label}: body: expected no body with ${method}, received one`);
  }
  const headers = new Headers();
  try {
    for (const [name, value] of Object.entries(call.headers ?? {})) headers.set(name, value);
  } catch {
    // The runtime's message repeats the offending value, which may be a secret.
    throw new InvalidActionInputError(
      `${call.label}: headers: expected valid HTTP header names and values, received an invalid one among ${Object.keys(call.headers ?? {}).join(', ')}`,
    );
  }
  if (hasBody) headers.set('Content-Type', 'application/json');
  headers.set('Idempotency-Key', call.idempotencyKey);
  headers.set('User-Agent', HTTP_USER_AGENT);
  headers.set('Accept', 'application/json, text/plain;q=0.9, */*;q=0.1');
  const payload = hasBody ? serialise(call.label, call.body) : undefined;

  const what = `${call.label}: ${method} ${target}`;
  let response: Response;
  try {
    response = await fetch(url.href, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      redirect: 'manual',
      signal: requestSignal(timeoutMs),
    });
  } catch (error) {
    throw new HttpUnavailableError(
      `${what}: expected an HTTP response, received ${describeFetchError(error, timeoutMs)} (retryable)`,
      target,
      undefined,
      undefined,
      { cause: error },
    );
  }

  const { status } = response;
  const expected = call.expectStatus ? call.expectStatus.includes(status) : status >= 200 && status < 300;
  if (expected) {
    let body: unknown;
    try {
      body = method === 'HEAD' ? null : await readBody(response);
    } catch (error) {
      throw new HttpUnavailableError(
        `${what}: expected a complete response body, received ${describeFetchError(error, timeoutMs)} (retryable)`,
        target,
        status,
        undefined,
        { cause: error },
      );
    }
    return { status, body };
  }

  let excerpt: string;
  try {
    excerpt = excerptOf(await readText(response, RESPONSE_READ_LIMIT));
  } catch {
    excerpt = '<body unreadable>';
  }
  const wanted = call.expectStatus ? `status ${call.expectStatus.join(' or ')}` : 'a 2xx status';
  const received = `received ${status}${response.statusText ? ` ${response.statusText}` : ''}; body: ${JSON.stringify(excerpt)}`;
  if (status >= 500 || status === 408 || status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new HttpUnavailableError(
      `${what}: expected ${wanted}, ${received} (retryable)`,
      target,
      status,
      retryAfterMs,
    );
  }
  if (status === 401 || status === 403) {
    const check = call.credentialsAt ? `check the credentials in ${call.credentialsAt}` : 'check the credentials sent';
    throw new HttpAuthError(
      `${what}: expected ${wanted}, ${received}; authentication failed (${status === 401 ? 'missing or invalid credentials' : 'credentials not allowed to do this'}): ${check}; not retried`,
      target,
      status,
      excerpt,
    );
  }
  const location = status >= 300 && status < 400 ? response.headers.get('location') : null;
  throw new HttpRejectedError(
    `${what}: expected ${wanted}, ${received}${location ? `; redirect to ${redact(location)} not followed` : ''}; not retried`,
    target,
    status,
    excerpt,
  );
}

/** The activity attempt when running as an activity (1 on the first try), else undefined. */
export function currentAttempt(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}

/** The timeout, joined with the activity's cancellation when running as an activity. */
function requestSignal(timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return AbortSignal.any([timeout, Context.current().cancellationSignal]);
  } catch {
    return timeout;
  }
}

function checkUrl(label: string, raw: string): { url: URL; target: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidActionInputError(
      `${label}: url: expected an http(s) URL, received ${JSON.stringify(redact(raw))}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidActionInputError(`${label}: url: expected an http(s) URL, received protocol ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new InvalidActionInputError(
      `${label}: url: expected a URL without user info (put credentials in headers), received ${redact(url.href)} with user info`,
    );
  }
  return { url, target: redact(url.href) };
}

/** origin + path; user info, query string and fragment are dropped because they often carry tokens. */
export function redact(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return raw.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//');
  }
}

function serialise(label: string, body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new InvalidActionInputError(
      `${label}: body: expected a JSON-serialisable value, received one that failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (text === undefined)
    throw new InvalidActionInputError(`${label}: body: expected a JSON-serialisable value, received ${typeof body}`);
  return text;
}

async function readText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

/** JSON when the body parses as JSON, else a short excerpt of the text; null when empty. */
async function readBody(response: Response): Promise<unknown> {
  const text = await readText(response, RESPONSE_READ_LIMIT);
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return excerptOf(text);
  }
}

function excerptOf(text: string): string {
  const chars = Array.from(text.trim());
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join('')}…` : chars.join('');
}

/** A response body small enough for workflow history (an activity's output is recorded there). */
export function compactBody(body: unknown, maxChars = 4096): unknown {
  const text = JSON.stringify(body) ?? '';
  return text.length <= maxChars ? body : { truncated: `${text.slice(0, maxChars)}…`, chars: text.length };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return `no complete response within ${timeoutMs} ms (timeout)`;
  if (error instanceof Error && error.name === 'AbortError') return 'the request was cancelled (activity cancelled)';
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message,
    );
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

/** Delay-seconds only: an HTTP-date would need a clock, and the peer's clock is not ours. */
function parseRetryAfter(value: string | null): number | undefined {
  const trimmed = value?.trim();
  return trimmed && /^\d{1,9}$/.test(trimmed) ? Number(trimmed) * 1000 : undefined;
}

// --- http.request ---

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** True when `url`'s host is on the list: `host` (any port), `host:port`, or `*.domain` (any subdomain, any port). */
export function hostAllowed(url: URL, allowHosts: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  return allowHosts.some((raw) => {
    const entry = raw.trim().toLowerCase();
    const withPort = /^(.*):(\d{1,5})$/.exec(entry);
    const host = withPort && !entry.endsWith(']') ? withPort[1]! : entry;
    const port = withPort && !entry.endsWith(']') ? withPort[2] : undefined;
    if (port !== undefined && port !== defaultPort(url)) return false;
    if (host.startsWith('*.')) return hostname.endsWith(host.slice(1)) && hostname.length > host.length - 1;
    return hostname === host;
  });
}

export function checkAllowedHost(label: string, rawUrl: string, config: Pick<EngineConfig, 'http'>): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new InvalidActionInputError(
      `${label}: url: expected an http(s) URL, received ${JSON.stringify(redact(rawUrl))}`,
    );
  }
  const allowHosts = config.http?.allowHosts ?? [];
  if (!hostAllowed(url, allowHosts)) {
    throw new HostNotAllowedError(
      `${label}: host "${url.host}" is not in http.allowHosts (${allowHosts.length > 0 ? allowHosts.join(', ') : 'empty: every host is refused'}); add it to incident-engine.yaml to allow it`,
    );
  }
  return url;
}

export function httpRequestPerformers(ctx: ActionContext): Performers<'http.request'> {
  return {
    'http.request': async (p, input) => {
      const label = `http.request (step ${input.stepId})`;
      checkAllowedHost(label, p.url, ctx.config);
      const expectStatus =
        p.expectStatus === undefined ? undefined : Array.isArray(p.expectStatus) ? p.expectStatus : [p.expectStatus];
      const reply = await sendHttp({
        label,
        method: p.method,
        url: p.url,
        headers: p.headers,
        body: p.body,
        idempotencyKey: input.idempotencyKey,
        ...(p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs }),
        ...(expectStatus ? { expectStatus } : {}),
        credentialsAt: `the step's headers`,
      });
      const attempt = currentAttempt();
      return { status: reply.status, body: compactBody(reply.body), ...(attempt === undefined ? {} : { attempt }) };
    },
  };
}
