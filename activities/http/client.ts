// The one HTTP client of the activities: http.request, the connectors, the emergency API and the webhook and Slack
// channels all send through sendHttp. One request carrying an Idempotency-Key, its answer classified: an expected
// status (any 2xx by default) is done; a network error, timeout, 5xx, 408 or 429 is HttpUnavailableError (retryable,
// with Retry-After); 401/403 is HttpAuthError; any other status HttpRejectedError.
// Must never retry by itself (Temporal owns retries), follow redirects (an allow-list would be escaped), or put
// secrets, header values or URL query strings into error messages or outputs (they end up in workflow history).
import { Context } from '@temporalio/activity';
import { dotSegments } from '../../domain/url-template';
import { HttpAuthError, HttpRejectedError, HttpUnavailableError, InvalidActionInputError } from '../errors';
import { utf8Bytes } from '../../domain/utf8';

export interface HttpCall {
  /** Who is calling, first in every message: `app.safeMode (step s1)`, `webhook channel "ops"`. */
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
  /** The URL's path is itself a secret (a Slack webhook's token): messages name the origin only. */
  secretPath?: boolean;
  /** Read and return the body of a successful answer. Default true; false releases the connection unread. */
  readBody?: boolean;
}

export interface HttpReply {
  status: number;
  /** Parsed JSON, or the text (at most EXCERPT_CHARS characters) when it is not JSON; null when empty or unread. */
  body: unknown;
}

export const HTTP_USER_AGENT = 'incident-engine';
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
const EXCERPT_CHARS = 200;
/** Bytes of a response read at most; a bigger answer is cut here (an error body) or refused as not JSON. */
const RESPONSE_READ_LIMIT = 64 * 1024;

/** Sends one request. Resolves on an expected status; throws HttpUnavailableError (retryable) or a final error. */
export async function sendHttp(call: HttpCall): Promise<HttpReply> {
  const { url, target } = checkUrl(call);
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
      { url: target },
      { cause: error },
    );
  }

  const { status } = response;
  const expected = call.expectStatus ? call.expectStatus.includes(status) : status >= 200 && status < 300;
  if (expected) {
    if (method === 'HEAD' || call.readBody === false) {
      await response.body?.cancel().catch(() => undefined);
      return { status, body: null };
    }
    try {
      return { status, body: await readBody(response) };
    } catch (error) {
      throw new HttpUnavailableError(
        `${what}: expected a complete response body, received ${describeFetchError(error, timeoutMs)} (retryable)`,
        { url: target, status },
        { cause: error },
      );
    }
  }

  let bodyExcerpt: string;
  try {
    bodyExcerpt = excerptOf(await readText(response, RESPONSE_READ_LIMIT));
  } catch {
    bodyExcerpt = '<body unreadable>';
  }
  const wanted = call.expectStatus ? `status ${call.expectStatus.join(' or ')}` : 'a 2xx status';
  const received = `received ${status}${response.statusText ? ` ${response.statusText}` : ''}; body: ${JSON.stringify(bodyExcerpt)}`;
  const failure = { url: target, status, bodyExcerpt };
  if (status >= 500 || status === 408 || status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new HttpUnavailableError(`${what}: expected ${wanted}, ${received} (retryable)`, {
      ...failure,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status === 401 || status === 403) {
    const check = call.credentialsAt ? `check the credentials in ${call.credentialsAt}` : 'check the credentials sent';
    throw new HttpAuthError(
      `${what}: expected ${wanted}, ${received}; authentication failed (${status === 401 ? 'missing or invalid credentials' : 'credentials not allowed to do this'}): ${check}; not retried`,
      failure,
    );
  }
  const location = status >= 300 && status < 400 ? response.headers.get('location') : null;
  const redirect = location ? `; redirect${call.secretPath ? '' : ` to ${redact(location)}`} not followed` : '';
  throw new HttpRejectedError(`${what}: expected ${wanted}, ${received}${redirect}; not retried`, failure);
}

/** The activity attempt when running as an activity (1 on the first try), else undefined. */
export function currentAttempt(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}

/** `output` with the activity attempt added when running as an activity. */
export function withAttempt<T extends object>(output: T): T & { attempt?: number } {
  const attempt = currentAttempt();
  return attempt === undefined ? output : { ...output, attempt };
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

/** Parses an http(s) URL without user info; `label: url: expected ...` otherwise. */
export function parseHttpUrl(label: string, raw: unknown, secretPath = false): URL {
  if (typeof raw !== 'string' || raw === '') {
    throw new InvalidActionInputError(`${label}: url: expected an http(s) URL, received ${describeValue(raw)}`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const shown = secretPath ? 'one that does not parse' : JSON.stringify(redact(raw));
    throw new InvalidActionInputError(`${label}: url: expected an http(s) URL, received ${shown}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidActionInputError(`${label}: url: expected an http(s) URL, received protocol ${url.protocol}`);
  }
  if (dotSegments(raw).length > 0) {
    // A URL parser resolves them away, so `/users/../suspend` would silently address `/suspend`.
    const shown = secretPath ? `${url.protocol}//${url.host}/…` : JSON.stringify(withoutSecrets(raw));
    throw new InvalidActionInputError(`${label}: url: expected a path without "." or ".." segments, received ${shown}`);
  }
  if (url.username || url.password) {
    // fetch refuses these anyway, with a message that repeats the credentials.
    const shown = secretPath ? `${url.protocol}//${url.host}/…` : redact(url.href);
    throw new InvalidActionInputError(
      `${label}: url: expected a URL without user info (put credentials in headers), received ${shown} with user info`,
    );
  }
  return url;
}

function checkUrl(call: HttpCall): { url: URL; target: string } {
  const url = parseHttpUrl(call.label, call.url, call.secretPath);
  return { url, target: call.secretPath ? `${url.origin}/…` : redact(url.href) };
}

/** origin + path; user info, query string and fragment are dropped because they often carry tokens. */
export function redact(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return withoutSecrets(raw);
  }
}

/** The URL as written, without user info, query string or fragment. */
function withoutSecrets(raw: string): string {
  return raw.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//');
}

function serialise(label: string, body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new InvalidActionInputError(
      `${label}: body: expected a JSON-serialisable value, received one that failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new InvalidActionInputError(
      `${label}: body: expected a JSON-serialisable value, received ${describeValue(body)}`,
    );
  }
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

/**
 * A response body small enough for workflow history and the incident's view (an activity's output is recorded in one
 * and listed in the other): the body, or the start of its JSON, in at most `maxBytes` of UTF-8.
 */
export function compactBody(body: unknown, maxBytes = 4096): unknown {
  const text = JSON.stringify(body) ?? '';
  if (utf8Bytes(text) <= maxBytes) return body;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += utf8Bytes(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return { truncated: `${text.slice(0, end)}…`, chars: text.length };
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

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return typeof value;
}
