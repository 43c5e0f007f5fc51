// Delivers a notification to a configured channel: a webhook, or a JSON-lines file (the default channel, so a
// first run without configuration still records every notification). Idempotent per key on both.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Channel } from '../../src/config';
import { postWebhook } from './webhook';

export interface Notification {
  incidentId: string;
  audience: string;
  subject: string;
  text: string;
  severity?: string;
  /** Extra structured fields for machines (trigger, level...). */
  details?: Record<string, unknown>;
}

async function alreadyWritten(file: string, idempotencyKey: string): Promise<boolean> {
  try {
    const text = await readFile(file, 'utf8');
    return text.includes(`"idempotencyKey":${JSON.stringify(idempotencyKey)}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export async function deliver(
  channelName: string,
  channel: Channel,
  notification: Notification,
  idempotencyKey: string,
  sentAt: Date,
): Promise<{ channel: string; delivered: 'webhook' | 'file' | 'duplicate' }> {
  const body = { ...notification, idempotencyKey, sentAt: sentAt.toISOString() };
  if (channel.type === 'webhook') {
    await postWebhook({ url: channel.url, body, idempotencyKey, headers: channel.headers });
    return { channel: channelName, delivered: 'webhook' };
  }
  if (await alreadyWritten(channel.path, idempotencyKey)) return { channel: channelName, delivered: 'duplicate' };
  await mkdir(path.dirname(channel.path), { recursive: true });
  await appendFile(channel.path, JSON.stringify(body) + '\n');
  return { channel: channelName, delivered: 'file' };
}
