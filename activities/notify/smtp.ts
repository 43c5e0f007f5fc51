// E-mail over SMTP (nodemailer): one message per call, with a Message-ID derived from the idempotency key, so a
// message re-sent by a retried activity (after a dropped connection, say) is recognisably the same message to the
// receiving server and to every mailbox. Classifies failures: a permanent SMTP rejection (5xx) or bad configuration
// is non-retryable; a dropped connection, a timeout or a 4xx reply is retryable.
// Must never retry by itself (Temporal owns retries), log the SMTP conversation, or put the password in a message.
import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Channel } from '../../domain/config';
import { InvalidActionInputError, SmtpRejectedError, SmtpUnavailableError } from '../errors';

export type SmtpChannel = Extract<Channel, { type: 'smtp' }>;

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000;

export interface SmtpMessage {
  incidentId: string;
  subject: string;
  text: string;
  idempotencyKey: string;
  sentAt: Date;
}

export interface SmtpResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** The server's final reply, e.g. `250 OK: queued`. */
  response: string;
}

/** `<ie-<sha256(key) first 40 hex>@<domain of from>>`: stable across retries, unique per key, valid in any header. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const digest = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 40);
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = address.includes('@')
    ? address
        .slice(address.lastIndexOf('@') + 1)
        .trim()
        .toLowerCase()
    : '';
  return `<ie-${digest}@${/^[a-z0-9.-]+$/.test(domain) && domain ? domain : 'incident-engine.invalid'}>`;
}

/** Sends one message; resolves when the server accepted it for at least one recipient. */
export async function sendSmtp(
  channelName: string,
  channel: SmtpChannel,
  message: SmtpMessage,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SmtpResult> {
  const target = `smtp channel "${channelName}" (${channel.host}:${port(channel)})`;
  if (typeof message.idempotencyKey !== 'string' || message.idempotencyKey.trim() === '') {
    throw new InvalidActionInputError(`${target}: expected a non-empty idempotency key`);
  }
  let auth: { user: string; pass: string } | undefined;
  if (channel.auth) {
    const pass = env[channel.auth.password.fromEnv];
    if (!pass) {
      throw new InvalidActionInputError(
        `${target}: environment variable ${channel.auth.password.fromEnv} (auth.password.fromEnv) is not set`,
      );
    }
    auth = { user: channel.auth.user, pass };
  }
  const timeoutMs = channel.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
  const messageId = messageIdFor(message.idempotencyKey, channel.from);
  const transport = createTransport({
    host: channel.host,
    port: port(channel),
    secure: channel.secure,
    requireTLS: channel.requireTLS,
    ...(auth ? { auth } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    const info = await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: message.subject,
      text: message.text,
      messageId,
      date: message.sentAt,
      headers: {
        'X-Incident-Id': message.incidentId,
        'X-Idempotency-Key': message.idempotencyKey,
        // RFC 3834: automated; no vacation replies or auto-responders back to the engine.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
      },
    });
    return {
      messageId,
      accepted: info.accepted.map(addressOf),
      rejected: info.rejected.map(addressOf),
      response: info.response,
    };
  } catch (error) {
    throw classify(target, error);
  } finally {
    transport.close();
  }
}

function port(channel: SmtpChannel): number {
  return channel.port ?? (channel.secure ? 465 : 587);
}

function addressOf(entry: string | { address: string }): string {
  return typeof entry === 'string' ? entry : entry.address;
}

interface MailError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  command?: string;
}

/** Configuration problems and permanent replies are non-retryable; the rest is worth another attempt. */
function classify(target: string, error: unknown): Error {
  if (!(error instanceof Error))
    return new SmtpUnavailableError(`${target}: expected the message to be accepted, received ${String(error)}`);
  const e = error as MailError;
  const reply = e.responseCode
    ? `${e.command ? `${e.command} → ` : ''}${oneLine(e.response ?? String(e.responseCode))}`
    : undefined;
  const what = `${target}: expected the message to be accepted, received ${reply ?? oneLine(e.message)}${e.code ? ` (${e.code})` : ''}`;
  if (e.code === 'ENOAUTH' || e.code === 'ECONFIG') return new InvalidActionInputError(what, { cause: error });
  if (e.code === 'EAUTH' && (e.permanent || e.responseCode === undefined))
    return new SmtpRejectedError(what, e.responseCode, { cause: error });
  if (e.permanent === true) return new SmtpRejectedError(what, e.responseCode, { cause: error });
  return new SmtpUnavailableError(`${what} (retryable)`, e.code, e.responseCode, { cause: error });
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}
