// Generic JSON webhook delivery: one POST carrying an Idempotency-Key, classified into success, retryable or not.
// Must never retry by itself (Temporal owns retries), never follow redirects, and never put credentials or query
// strings from the URL into error messages (they end up in workflow history).
import { InvalidActionInputError, WebhookRejectedError, WebhookUnavailableError } from '../errors';

export interface WebhookRequest {
  url: string;
  /** Serialised with JSON.stringify. */
  body: unknown;
  /** Stable across retries of the same effect, e.g. `${incidentId}:${stepId}`. */
  idempotencyKey: string;
  /** Extra headers; Content-Type, Idempotency-Key and User-Agent are always set by this module. */
  headers?: Record<string, string>;
  /** Whole exchange, headers and body. Default 10 000 ms. */
  timeoutMs?: number;
  /** The activity attempt (Context.current().info.attempt), echoed in the result for the step record. */
  attempt?: number;
}

export interface WebhookResult {
  status: number;
  attempt?: number;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export const WEBHOOK_USER_AGENT = 'incident-engine';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
const EXCERPT_CHARS = 200;
/** Bytes read from an error response at most; the rest is discarded. */
const EXCERPT_READ_LIMIT = 4096;

/** POST `body` as JSON. Resolves on 2xx; throws WebhookUnavailableError (retryable) or a NonRetryableActionError. */
export async function postWebhook(request: WebhookRequest, fetchImpl: FetchLike = fetch): Promise<WebhookResult> {
  const { url, target } = checkUrl(request.url);
  const timeoutMs = request.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidActionInputError(`webhook timeoutMs: expected a positive integer, received ${String(timeoutMs)}`);
  }
  const headers = buildHeaders(request);
  const payload = serialise(request.body);

  let response: Response;
  try {
    response = await fetchImpl(url.href, {
      method: 'POST',
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new WebhookUnavailableError(
      `Webhook POST ${target}: expected an HTTP response, received ${describeFetchError(error, timeoutMs)}`,
      target,
      undefined,
      undefined,
      { cause: error },
    );
  }

  const { status } = response;
  if (status >= 200 && status < 300) {
    await discard(response);
    return request.attempt === undefined ? { status } : { status, attempt: request.attempt };
  }

  let excerpt: string;
  try {
    excerpt = await readExcerpt(response);
  } catch {
    excerpt = '<body unreadable>';
  }
  const received = `received ${status}${response.statusText ? ` ${response.statusText}` : ''}; body: ${JSON.stringify(excerpt)}`;
  if (status >= 500 || status === 408 || status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new WebhookUnavailableError(
      `Webhook POST ${target}: expected a 2xx status, ${received} (retryable)`,
      target,
      status,
      retryAfterMs,
    );
  }
  const location = status >= 300 && status < 400 ? response.headers.get('location') : null;
  throw new WebhookRejectedError(
    `Webhook POST ${target}: expected a 2xx status, ${received}${location ? `; redirect to ${redact(location)} not followed` : ''}`,
    target,
    status,
    excerpt,
  );
}

function checkUrl(raw: unknown): { url: URL; target: string } {
  if (typeof raw !== 'string' || raw === '') {
    throw new InvalidActionInputError(`webhook url: expected an http(s) URL, received ${describeValue(raw)}`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidActionInputError(`webhook url: expected an http(s) URL, received ${JSON.stringify(redact(raw))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidActionInputError(`webhook url: expected an http(s) URL, received protocol ${url.protocol}`);
  }
  if (url.username || url.password) {
    // fetch refuses these anyway, with a message that repeats the credentials.
    throw new InvalidActionInputError(
      `webhook url: expected a URL without user info (put credentials in headers), received ${redact(url.href)} with user info`,
    );
  }
  return { url, target: redact(url.href) };
}

/** origin + path; user info, query string and fragment are dropped because they often carry tokens. */
function redact(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return raw.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//');
  }
}

function buildHeaders(request: WebhookRequest): Headers {
  const key = request.idempotencyKey;
  if (typeof key !== 'string' || key.trim() === '') {
    throw new InvalidActionInputError(
      `webhook idempotencyKey: expected a non-empty string, received ${describeValue(key)}`,
    );
  }
  const headers = new Headers();
  try {
    for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);
    headers.set('Content-Type', 'application/json');
    headers.set('Idempotency-Key', key);
    headers.set('User-Agent', WEBHOOK_USER_AGENT);
  } catch (error) {
    throw new InvalidActionInputError(
      `webhook headers: expected valid HTTP header names and values, received ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return headers;
}

function serialise(body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new InvalidActionInputError(
      `webhook body: expected a JSON-serialisable value, received one that failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new InvalidActionInputError(
      `webhook body: expected a JSON-serialisable value, received ${describeValue(body)}`,
    );
  }
  return text;
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no complete response within ${timeoutMs} ms (timeout)`;
  }
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

async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < EXCERPT_READ_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, EXCERPT_READ_LIMIT));
  const chars = Array.from(text.trim());
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join('')}…` : chars.join('');
}

/** Release the connection without reading a success body we do not need. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
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
