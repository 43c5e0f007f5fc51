// Slack-compatible channel against a real local HTTP peer (test/helpers/webhook-sink.ts), through the notify.send and
// notifyEscalation activities: payload shape, templates, escaping, classification, and one post per key on retries.
// Must never mock fetch or the network: every case goes over a real loopback socket.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { HttpUnavailableError } from '../../activities/errors';
import { buildSlackPayload } from '../../activities/notify/slack';
import { EngineConfigFile, buildConfig, type EngineConfig } from '../../src/config';
import type { ActionInput, EscalationNotice } from '../../domain/actions';
import { tempDir } from '../helpers/incident-fixtures';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const TOKEN_PATH = '/services/T0000/B0000/s3cr3tT0k3n';

let sink: WebhookSink;
let base: string;

beforeEach(async () => {
  sink = await startWebhookSink();
  base = tempDir('slack-test');
});

afterEach(async () => {
  await sink.close();
  await rm(base, { recursive: true, force: true });
});

function config(channel: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): EngineConfig {
  return buildConfig(
    EngineConfigFile.parse({
      dataDir: 'data',
      channels: { chat: { type: 'slack', url: `${sink.url}${TOKEN_PATH}`, ...channel } },
      audiences: { internal: 'chat', external: 'chat', L3: 'chat' },
      ...extra,
    }),
    base,
  );
}

function send(
  cfg: EngineConfig,
  params: Record<string, unknown>,
  key = 'INC-2026-001/notify-responders',
): Promise<unknown> {
  const input: ActionInput = {
    incidentId: 'INC-2026-001',
    phase: 'detect',
    stepId: 'notify-responders',
    action: 'notify.send',
    params,
    drill: false,
    idempotencyKey: key,
  };
  return createActivities({ config: cfg, now: () => NOW })['notify.send'](input);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection, received ${String(error)}`);
  return error;
}

interface Posted {
  text: string;
  blocks?: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[];
}

describe('slack channel', () => {
  it('posts {text, blocks} rendered from the severity template, with the idempotency key in a header', async () => {
    const result = await send(config(), {
      audience: 'internal',
      severity: 'P1',
      title: 'Unauthorized access to admin panel',
      message: 'Suspicious admin logins from 203.0.113.7; sessions revoked.',
    });

    expect(result).toEqual({ channel: 'chat', delivered: 'slack', status: 200 });
    expect(sink.requests).toHaveLength(1);
    const [request] = sink.requests;
    expect(request?.path).toBe(TOKEN_PATH);
    expect(request?.headers['idempotency-key']).toBe('INC-2026-001/notify-responders');
    expect(request?.headers['content-type']).toBe('application/json');
    const body = request?.body as Posted;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toMatch(
      /^\*\[P1 High\] INC-2026-001: Unauthorized access to admin panel\*\nHigh-severity incident/,
    );
    expect(body.blocks?.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks?.[0]?.text).toEqual({
      type: 'plain_text',
      text: '[P1 High] INC-2026-001: Unauthorized access to admin panel',
    });
    expect(body.blocks?.[1]?.text?.type).toBe('mrkdwn');
    expect(body.blocks?.[1]?.text?.text).toContain('Suspicious admin logins from 203.0.113.7; sessions revoked.');
    expect(body.blocks?.[1]?.text?.text).toContain('Escalation: Security team + Engineering');
    expect(body.blocks?.[2]?.elements?.[0]?.text).toBe(
      'INC-2026-001 · P1 · internal · key INC-2026-001/notify-responders',
    );
  });

  it('sends only text when blocks are turned off, and uses configured template overrides', async () => {
    const cfg = config(
      { blocks: false },
      { templates: { external: { default: { subject: 'Status', text: '${message} (${incident.id})' } } } },
    );
    await send(cfg, { audience: 'external', message: 'All systems operational.' });
    expect(sink.requests[0]?.body).toEqual({ text: '*Status*\nAll systems operational. (INC-2026-001)' });
  });

  it('escapes <, > and & in substituted values so a message cannot @channel or forge links', async () => {
    await send(config(), {
      audience: 'internal',
      severity: 'P3',
      message: '<!channel> deploy <https://evil.example|here> & retry',
    });
    const body = sink.requests[0]?.body as Posted;
    expect(body.text).toContain('&lt;!channel&gt; deploy &lt;https://evil.example|here&gt; &amp; retry');
    expect(body.text).not.toContain('<!channel>');
    expect(body.blocks?.[1]?.text?.text).not.toContain('<https://evil.example');
  });

  it('is retryable on 503 and, once a post succeeded, never posts the same key again', async () => {
    sink.setBehaviour({ failFirst: 1, failStatus: 503 });
    const cfg = config();
    const params = { audience: 'internal', severity: 'P0', message: 'Kill switch enabled' };

    const first = await failure(send(cfg, params));
    expect(first).toBeInstanceOf(HttpUnavailableError);
    expect(first).not.toBeInstanceOf(ApplicationFailure);

    await expect(send(cfg, params)).resolves.toEqual({ channel: 'chat', delivered: 'slack', status: 200 });
    // The activity ran again after the post succeeded (say its completion was lost): nothing is posted.
    await expect(send(cfg, params)).resolves.toEqual({
      channel: 'chat',
      delivered: 'duplicate',
      sentAt: NOW.toISOString(),
    });

    expect(sink.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(sink.effects().size).toBe(1);
    const log = await readFile(path.join(cfg.dataDir, 'notify', 'chat.sent.jsonl'), 'utf8');
    expect(
      log
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([{ idempotencyKey: 'INC-2026-001/notify-responders', sentAt: NOW.toISOString(), channel: 'chat' }]);

    // Another key is another message.
    await send(cfg, params, 'INC-2026-001/other-step');
    expect(sink.effects().size).toBe(2);
  });

  it('treats 404 channel_not_found as non-retryable without revealing the token in the URL path', async () => {
    sink.setBehaviour({ failFirst: 1, failStatus: 404, failBody: 'channel_not_found' });
    const error = await failure(send(config(), { audience: 'internal', message: 'hello' }));
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failed = error as ApplicationFailure;
    expect(failed.nonRetryable).toBe(true);
    expect(failed.type).toBe('HttpRejectedError');
    expect(failed.message).toContain('expected a 2xx status, received 404 Not Found; body: "channel_not_found"');
    expect(failed.message).toContain(`slack channel "chat": POST ${sink.url}/…`);
    expect(failed.message).not.toContain('s3cr3tT0k3n');
  });

  it('reads the webhook URL from the environment, and fails non-retryably when the variable is unset', async () => {
    const cfg = config({ url: { fromEnv: 'SLACK_TEST_WEBHOOK_URL' } });
    delete process.env.SLACK_TEST_WEBHOOK_URL;
    const missing = await failure(send(cfg, { audience: 'internal', message: 'hello' }));
    expect((missing as ApplicationFailure).nonRetryable).toBe(true);
    expect((missing as ApplicationFailure).type).toBe('MissingSecretError');
    expect(missing.message).toContain(
      'url.fromEnv: expected environment variable SLACK_TEST_WEBHOOK_URL to hold the value, but it is not set',
    );
    expect(sink.requests).toHaveLength(0);

    process.env.SLACK_TEST_WEBHOOK_URL = `${sink.url}${TOKEN_PATH}`;
    try {
      await expect(send(cfg, { audience: 'internal', message: 'hello' })).resolves.toMatchObject({
        delivered: 'slack',
      });
      expect(sink.requests[0]?.path).toBe(TOKEN_PATH);
    } finally {
      delete process.env.SLACK_TEST_WEBHOOK_URL;
    }
  });

  it('delivers escalation notices through the executive template for L3', async () => {
    const activities = createActivities({ config: config(), now: () => NOW });
    // notifyEscalation reads the activity attempt, so it runs inside a (mock) activity context.
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const env = new MockActivityEnvironment({ attempt: 1 });
    const notice: EscalationNotice = {
      incidentId: 'INC-2026-001',
      title: 'Data breach on customer DB',
      severity: 'P0',
      trigger: 'severity_p0',
      fromLevel: 2,
      toLevel: 3,
      levelName: 'Executive',
      audience: 'L3',
      reason: 'severity raised to P0',
      drill: false,
      idempotencyKey: 'INC-2026-001/escalation/severity_p0',
    };
    const result = await env.run(activities.notifyEscalation, notice);
    expect(result).toMatchObject({ attempt: 1, channel: 'chat', delivered: 'slack' });
    const body = sink.requests[0]?.body as Posted;
    expect(body.blocks?.[0]?.text?.text).toBe(
      '[Executive briefing] Critical incident INC-2026-001: Data breach on customer DB: severity raised to P0',
    );
    expect(body.blocks?.[1]?.text?.text).toContain('legal counsel');
    expect(sink.requests[0]?.headers['idempotency-key']).toBe('INC-2026-001/escalation/severity_p0');
  });

  it('rejects a slack channel without a usable URL when the config loads', () => {
    const parsed = EngineConfigFile.safeParse({ channels: { chat: { type: 'slack', url: 'ftp://example.com/hook' } } });
    expect(parsed.success).toBe(false);
    const unknownField = EngineConfigFile.safeParse({
      channels: { chat: { type: 'slack', url: 'https://example.com/hook', colour: 'red' } },
    });
    expect(unknownField.success).toBe(false);
  });
});

describe('buildSlackPayload', () => {
  it('splits long text into sections of at most 3000 characters, preferring line breaks', () => {
    const line = `${'a'.repeat(99)}\n`;
    const payload = buildSlackPayload({
      subject: 's',
      mrkdwnSubject: 's',
      mrkdwnText: line.repeat(70),
      context: [],
      blocks: true,
    });
    const sections = payload.blocks?.filter((b) => b.type === 'section') ?? [];
    expect(sections.length).toBe(3);
    for (const section of sections) {
      const text = (section as { text: { text: string } }).text.text;
      expect(text.length).toBeLessThanOrEqual(3000);
      expect(text.startsWith('a')).toBe(true);
    }
    expect(payload.blocks?.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section']);
  });
});
