// Delivers a notification to a configured channel: a webhook, a JSON-lines file (the default channel, so a first run
// without configuration still records every notification), a Slack-compatible webhook or SMTP e-mail. Idempotent per
// key on all four: webhook peers get the key in a header, the file is checked before appending, and Slack and e-mail
// keep a sent-log per channel (plus the key in a header, and a Message-ID derived from it for e-mail).
// Slack and e-mail are for people: their subject and text come from the templates (domain/message-templates.ts) for the
// audience and severity; webhook and file deliveries stay the structured notification, unchanged.
import { appendFile, mkdir } from 'node:fs/promises';
import { readTextIfExists } from '../files';
import path from 'node:path';
import type { Channel } from '../../domain/config';
import { renderMessage, type TemplateConfig, type TemplateInput } from '../../domain/message-templates';
import { InvalidActionInputError } from '../errors';
import { Severity } from '../../domain/severity';
import { buildSlackPayload, escapeSlack, postSlack } from './slack';
import { sendSmtp } from './smtp';
import { postWebhook } from './webhook';

export interface Notification {
  incidentId: string;
  audience: string;
  subject: string;
  text: string;
  severity?: string;
  /** The incident's title and current phase, when the caller knows them (templates use them). */
  title?: string;
  phase?: string;
  /** Extra structured fields for machines (trigger, level...). */
  details?: Record<string, unknown>;
}

export interface DeliverOptions {
  /** Template overrides from the engine config (`templates`). */
  templates?: TemplateConfig;
  /** Where `fromEnv` secrets are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export type Delivery =
  | { channel: string; delivered: 'webhook' | 'file' | 'duplicate' }
  | { channel: string; delivered: 'slack'; status: number }
  | { channel: string; delivered: 'smtp'; messageId: string; accepted: string[]; rejected: string[] }
  | { channel: string; delivered: 'duplicate'; sentAt: string; messageId?: string };

async function alreadyWritten(file: string, idempotencyKey: string): Promise<boolean> {
  const text = await readTextIfExists(file);
  return text?.includes(`"idempotencyKey":${JSON.stringify(idempotencyKey)}`) ?? false;
}

export async function deliver(
  channelName: string,
  channel: Channel,
  notification: Notification,
  idempotencyKey: string,
  sentAt: Date,
  options: DeliverOptions = {},
): Promise<Delivery> {
  const body = { ...notification, idempotencyKey, sentAt: sentAt.toISOString() };
  if (channel.type === 'webhook') {
    await postWebhook({ url: channel.url, body, idempotencyKey, headers: channel.headers });
    return { channel: channelName, delivered: 'webhook' };
  }
  if (channel.type === 'slack' || channel.type === 'smtp') {
    const log = channel.sentLog ?? defaultSentLog(channelName);
    const earlier = await findSent(log, idempotencyKey);
    if (earlier) {
      return {
        channel: channelName,
        delivered: 'duplicate',
        sentAt: earlier.sentAt,
        ...(earlier.messageId ? { messageId: earlier.messageId } : {}),
      };
    }
    const input = templateInput(notification, sentAt);
    const render = (escape?: (value: string) => string) => {
      try {
        return renderMessage(input, options.templates, escape ? { escape } : {});
      } catch (error) {
        // Overrides are checked when the config loads; one that slipped past fails the same way on every attempt.
        throw new InvalidActionInputError(
          `channel "${channelName}": template: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    };
    if (channel.type === 'slack') {
      const plain = render();
      const escaped = render(escapeSlack);
      const severity = input.severity ?? 'unclassified';
      const payload = buildSlackPayload({
        subject: plain.subject,
        mrkdwnSubject: escaped.subject,
        mrkdwnText: escaped.text,
        context: [
          escapeSlack(`${notification.incidentId} · ${severity} · ${notification.audience} · key ${idempotencyKey}`),
        ],
        blocks: channel.blocks,
      });
      const { status } = await postSlack({
        channelName,
        channel,
        payload,
        idempotencyKey,
        ...(options.env ? { env: options.env } : {}),
      });
      await recordSent(log, { idempotencyKey, sentAt: sentAt.toISOString(), channel: channelName });
      return { channel: channelName, delivered: 'slack', status };
    }
    const rendered = render();
    const sent = await sendSmtp(
      channelName,
      channel,
      { incidentId: notification.incidentId, subject: rendered.subject, text: rendered.text, idempotencyKey, sentAt },
      options.env,
    );
    await recordSent(log, {
      idempotencyKey,
      sentAt: sentAt.toISOString(),
      channel: channelName,
      messageId: sent.messageId,
    });
    return {
      channel: channelName,
      delivered: 'smtp',
      messageId: sent.messageId,
      accepted: sent.accepted,
      rejected: sent.rejected,
    };
  }
  if (await alreadyWritten(channel.path, idempotencyKey)) return { channel: channelName, delivered: 'duplicate' };
  await mkdir(path.dirname(channel.path), { recursive: true, mode: 0o700 });
  await appendFile(channel.path, JSON.stringify(body) + '\n', { mode: 0o600 });
  return { channel: channelName, delivered: 'file' };
}

function templateInput(notification: Notification, sentAt: Date): TemplateInput {
  const severity = Severity.safeParse(notification.severity);
  return {
    incidentId: notification.incidentId,
    audience: notification.audience,
    message: notification.text,
    subject: notification.subject,
    ...(severity.success ? { severity: severity.data } : {}),
    ...(notification.title ? { title: notification.title } : {}),
    ...(notification.phase ? { phase: notification.phase } : {}),
    ...(notification.details ? { details: notification.details } : {}),
    sentAt,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sent-log: one JSON line per delivered key. Written after the peer accepted, so a crash in between can still send
// twice; Slack cannot tell, and an e-mail server or mailbox can by the Message-ID.

interface SentRecord {
  idempotencyKey: string;
  sentAt: string;
  channel: string;
  messageId?: string;
}

function defaultSentLog(channelName: string): string {
  return path.resolve('.data', 'notify', `${channelName.replace(/[^A-Za-z0-9._-]/g, '_')}.sent.jsonl`);
}

async function findSent(file: string, idempotencyKey: string): Promise<SentRecord | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const needle = `"idempotencyKey":${JSON.stringify(idempotencyKey)}`;
  for (const line of text.split('\n')) {
    if (!line.includes(needle)) continue;
    try {
      const record = JSON.parse(line) as SentRecord;
      if (record.idempotencyKey === idempotencyKey) return record;
    } catch {
      // A torn line from a crash: ignore it, the key was not recorded.
    }
  }
  return undefined;
}

async function recordSent(file: string, record: SentRecord): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, JSON.stringify(record) + '\n', { mode: 0o600 });
}
