// Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat...): one POST of `{text, blocks?}` carrying the
// idempotency key in a header, classified into success, retryable or not. Slack itself does not deduplicate, so the
// caller (channels.ts) keeps a sent-log per channel and never posts a key twice once a post has succeeded.
// Must never retry by itself (Temporal owns retries), follow redirects, or name the webhook's path in an error: the
// path is the token, and error messages end up in workflow history.
import type { Channel } from '../../domain/config';
import { InvalidActionInputError, WebhookRejectedError, WebhookUnavailableError } from '../errors';

export type SlackChannel = Extract<Channel, { type: 'slack' }>;

export interface SlackPayload {
  text: string;
  blocks?: SlackBlock[];
}

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;
/** Block Kit limits: header text 150 characters, section text 3000, top-level text 40 000, 50 blocks. */
const HEADER_CHARS = 150;
const SECTION_CHARS = 3000;
const TEXT_CHARS = 40_000;
const MAX_SECTIONS = 10;
const EXCERPT_CHARS = 200;

/** Slack's mrkdwn control characters; escaping them stops `<!channel>` mentions and forged links in values. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface SlackMessageParts {
  /** Subject as plain text (header block). */
  subject: string;
  /** Subject and text with substituted values already escaped for mrkdwn. */
  mrkdwnSubject: string;
  mrkdwnText: string;
  /** Small print under the message (incident, severity...), already escaped. */
  context: string[];
  blocks: boolean;
}

/** `text` is always present (notifications and clients without blocks show it); blocks add structure. */
export function buildSlackPayload(parts: SlackMessageParts): SlackPayload {
  const text = clip(`*${parts.mrkdwnSubject}*\n${parts.mrkdwnText}`, TEXT_CHARS);
  if (!parts.blocks) return { text };
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(parts.subject, HEADER_CHARS) } },
  ];
  const chunks = chunk(parts.mrkdwnText, SECTION_CHARS);
  if (chunks.length > MAX_SECTIONS) {
    chunks.length = MAX_SECTIONS;
    chunks[MAX_SECTIONS - 1] = clip(chunks[MAX_SECTIONS - 1] ?? '', SECTION_CHARS - 1) + '…';
  }
  for (const part of chunks) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: part } });
  if (parts.context.length > 0) {
    blocks.push({
      type: 'context',
      elements: parts.context.slice(0, 10).map((item) => ({ type: 'mrkdwn', text: item })),
    });
  }
  return { text, blocks };
}

export interface SlackRequest {
  channelName: string;
  channel: SlackChannel;
  payload: SlackPayload;
  idempotencyKey: string;
  /** Where `url: {fromEnv}` is read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** POST the payload. Resolves on 2xx; throws WebhookUnavailableError (retryable) or a NonRetryableActionError. */
export async function postSlack(request: SlackRequest): Promise<{ status: number }> {
  const { channel, channelName } = request;
  const url = resolveUrl(channelName, channel, request.env ?? process.env);
  const target = `slack channel "${channelName}" (${url.origin}/…)`;
  if (typeof request.idempotencyKey !== 'string' || request.idempotencyKey.trim() === '') {
    throw new InvalidActionInputError(`${target}: expected a non-empty idempotency key`);
  }
  const timeoutMs = channel.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
  const headers = new Headers();
  try {
    for (const [name, value] of Object.entries(channel.headers)) headers.set(name, value);
  } catch (error) {
    throw new InvalidActionInputError(
      `${target} headers: expected valid HTTP header names and values, received ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Idempotency-Key', request.idempotencyKey);
  headers.set('User-Agent', 'incident-engine');

  let response: Response;
  try {
    response = await fetch(url.href, {
      method: 'POST',
      headers,
      body: JSON.stringify(request.payload),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new WebhookUnavailableError(
      `Slack POST to ${target}: expected an HTTP response, received ${timedOut ? `no complete response within ${timeoutMs} ms (timeout)` : describeNetworkError(error)}`,
      target,
      undefined,
      undefined,
      { cause: error },
    );
  }

  const { status } = response;
  const excerpt = await readExcerpt(response);
  if (status >= 200 && status < 300) return { status };
  // Slack answers errors as short codes in a text body: invalid_payload, channel_not_found, no_service...
  const received = `received ${status}${excerpt ? `: ${JSON.stringify(excerpt)}` : ''}`;
  if (status >= 500 || status === 408 || status === 429) {
    const retryAfter = response.headers.get('retry-after')?.trim();
    const retryAfterMs = retryAfter && /^\d{1,9}$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
    throw new WebhookUnavailableError(
      `Slack POST to ${target}: expected 2xx, ${received} (retryable)`,
      target,
      status,
      retryAfterMs,
    );
  }
  throw new WebhookRejectedError(
    `Slack POST to ${target}: expected 2xx, ${received}${status >= 300 && status < 400 ? '; redirect not followed' : ''}`,
    target,
    status,
    excerpt,
  );
}

function resolveUrl(channelName: string, channel: SlackChannel, env: NodeJS.ProcessEnv): URL {
  let raw: string;
  if (typeof channel.url === 'string') {
    raw = channel.url;
  } else {
    const value = env[channel.url.fromEnv];
    if (!value) {
      throw new InvalidActionInputError(
        `slack channel "${channelName}": environment variable ${channel.url.fromEnv} (url.fromEnv) is not set`,
      );
    }
    raw = value.trim();
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidActionInputError(
      `slack channel "${channelName}": expected an http(s) webhook URL, received one that does not parse`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new InvalidActionInputError(
      `slack channel "${channelName}": expected an http(s) webhook URL without user info, received ${url.protocol}//${url.host}/…`,
    );
  }
  return url;
}

function describeNetworkError(error: unknown): string {
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
  try {
    const text = (await response.text()).trim();
    return clip(text, EXCERPT_CHARS);
  } catch {
    return '<body unreadable>';
  }
}

function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** Splits at line breaks where possible so no chunk exceeds `max` characters. */
function chunk(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = Array.from(text);
  while (rest.length > max) {
    const window = rest.slice(0, max);
    const cut = window.lastIndexOf('\n');
    const atBreak = cut > max / 2;
    out.push(window.slice(0, atBreak ? cut : max).join(''));
    rest = rest.slice(atBreak ? cut + 1 : max);
  }
  if (rest.length > 0 || out.length === 0) out.push(rest.join(''));
  return out;
}
