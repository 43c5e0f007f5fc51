// Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat...): one POST of `{text, blocks?}` through the
// one HTTP client (activities/http/client.ts), carrying the idempotency key in a header. Slack itself does not deduplicate, so the
// caller (channels.ts) keeps a sent-log per channel and never posts a key twice once a post has succeeded.
// Must never retry by itself (Temporal owns retries), follow redirects, or name the webhook's path in an error: the
// path is the token, and error messages end up in workflow history.
import type { Channel } from '../../domain/config';
import { sendHttp } from '../http/client';
import { secretFromEnv } from '../http/headers';

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

/** POST the payload. Resolves on 2xx; throws HttpUnavailableError (retryable) or a NonRetryableActionError. */
export async function postSlack(request: SlackRequest): Promise<{ status: number }> {
  const { channel, channelName } = request;
  const where = `slack channel "${channelName}"`;
  const url =
    typeof channel.url === 'string'
      ? channel.url
      : secretFromEnv(channel.url.fromEnv, `${where}: url.fromEnv`, request.env).trim();
  const { status } = await sendHttp({
    label: where,
    method: 'POST',
    url,
    headers: channel.headers,
    body: request.payload,
    idempotencyKey: request.idempotencyKey,
    timeoutMs: channel.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS,
    // The path is the webhook's token.
    secretPath: true,
    readBody: false,
  });
  return { status };
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
