// SMTP channel against a real in-process SMTP server (smtp-server, parsed with mailparser) over loopback: the message
// as a mailbox sees it, a Message-ID derived from the idempotency key, failure classification, credentials from the
// environment, and exactly one accepted message per key when the activity retries after a dropped connection (both
// called attempt by attempt, and retried by Temporal itself on the time-skipping test server).
// Must never mock nodemailer or the network, and never listen on anything but 127.0.0.1.
import { rm } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { SmtpUnavailableError } from '../../activities/errors';
import { messageIdFor } from '../../activities/notify/smtp';
import { EngineConfigFile, buildConfig, type EngineConfig } from '../../src/config';
import type { ActionInput } from '../../domain/actions';
import { bundleWorkflows, createWorker } from '../../src/worker';
import type { PhaseInput, PhaseResult } from '../../workflows/steps';
import { tempDir } from '../helpers/incident-fixtures';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const FROM = 'Incident Engine <alerts@example.com>';
const TO = ['oncall@example.com', 'security@example.com'];

// ---------------------------------------------------------------------------------------------------------------
// The peer: a real SMTP server that keeps one message per Message-ID (as a mailbox that deduplicates would), and can
// drop a connection or answer with an error code on the next DATA transactions.

type Fault =
  { kind: 'drop-before-store' } | { kind: 'drop-after-store' } | { kind: 'reply'; code: number; message: string };

interface Transaction {
  messageId: string | undefined;
  mailFrom: string | undefined;
  rcptTo: string[];
  outcome: 'accepted' | 'duplicate' | 'dropped-before-store' | 'dropped-after-store' | 'rejected';
}

interface SmtpPeer {
  port: number;
  /** Every DATA transaction, in order, whatever became of it. */
  transactions: Transaction[];
  /** Message-ID -> the message as stored: what recipients see. */
  mailbox: Map<string, ParsedMail>;
  connections: number;
  faults: Fault[];
  close(): Promise<void>;
}

async function startSmtpPeer(options: { user?: string; pass?: string } = {}): Promise<SmtpPeer> {
  const peer: Omit<SmtpPeer, 'port' | 'close'> = { transactions: [], mailbox: new Map(), connections: 0, faults: [] };
  const drop = (session: SMTPServerSession): void => {
    for (const connection of server.connections) if (connection.id === session.id) connection._socket.destroy();
  };
  const server: SMTPServer = new SMTPServer({
    hideSTARTTLS: true,
    allowInsecureAuth: true,
    authOptional: !options.user,
    logger: false,
    closeTimeout: 200,
    onConnect(_session, callback) {
      peer.connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.pass)
        return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        void simpleParser(Buffer.concat(chunks)).then((mail) => {
          const mailFrom = session.envelope.mailFrom;
          const transaction: Transaction = {
            messageId: mail.messageId,
            mailFrom: mailFrom ? mailFrom.address : undefined,
            rcptTo: session.envelope.rcptTo.map((a) => a.address),
            outcome: 'accepted',
          };
          peer.transactions.push(transaction);
          const fault = peer.faults.shift();
          if (fault?.kind === 'drop-before-store') {
            transaction.outcome = 'dropped-before-store';
            return drop(session);
          }
          if (fault?.kind === 'reply') {
            transaction.outcome = 'rejected';
            return callback(Object.assign(new Error(fault.message), { responseCode: fault.code }));
          }
          const duplicate = mail.messageId !== undefined && peer.mailbox.has(mail.messageId);
          if (!duplicate) peer.mailbox.set(mail.messageId ?? `no-id-${peer.transactions.length}`, mail);
          if (fault?.kind === 'drop-after-store') {
            // Stored, but the 250 reply never reaches the client: it cannot know the message went through.
            transaction.outcome = 'dropped-after-store';
            return drop(session);
          }
          transaction.outcome = duplicate ? 'duplicate' : 'accepted';
          callback(null, duplicate ? `already have ${mail.messageId}` : 'queued');
        });
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(peer, {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// ---------------------------------------------------------------------------------------------------------------

let peer: SmtpPeer;
let base: string;

function config(port: number, channel: Record<string, unknown> = {}): EngineConfig {
  return buildConfig(
    EngineConfigFile.parse({
      dataDir: 'data',
      channels: { mail: { type: 'smtp', host: '127.0.0.1', port, from: FROM, to: TO, timeoutMs: 5_000, ...channel } },
      audiences: { internal: 'mail', external: 'mail', executive: 'mail' },
    }),
    base,
  );
}

function notify(
  cfg: EngineConfig,
  params: Record<string, unknown>,
  key = 'INC-2026-001/notify-users',
): Promise<unknown> {
  const input: ActionInput = {
    incidentId: 'INC-2026-001',
    phase: 'recover',
    stepId: 'notify-users',
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

describe('smtp channel', () => {
  beforeEach(async () => {
    peer = await startSmtpPeer();
    base = tempDir('smtp-test');
  });

  afterEach(async () => {
    await peer.close();
    await rm(base, { recursive: true, force: true });
  });

  it('sends one message per key with a Message-ID derived from the key, rendered from the audience template', async () => {
    const key = 'INC-2026-001/notify-users';
    const result = await notify(config(peer.port), {
      audience: 'external',
      severity: 'P1',
      title: 'Credential stuffing against /login',
      message: 'Sign-in is slow or failing for some users.',
    });

    const messageId = messageIdFor(key, FROM);
    expect(messageId).toMatch(/^<ie-[0-9a-f]{40}@example\.com>$/);
    expect(result).toEqual({ channel: 'mail', delivered: 'smtp', messageId, accepted: TO, rejected: [] });
    expect(peer.transactions).toEqual([{ messageId, mailFrom: 'alerts@example.com', rcptTo: TO, outcome: 'accepted' }]);

    const mail = peer.mailbox.get(messageId);
    expect(mail?.subject).toBe('Partial service disruption (INC-2026-001)');
    expect(mail?.from?.value).toEqual([{ name: 'Incident Engine', address: 'alerts@example.com' }]);
    expect(mail?.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual(TO);
    expect(mail?.date?.toISOString()).toBe(NOW.toISOString());
    expect(mail?.text).toContain('Sign-in is slow or failing for some users.');
    expect(mail?.text).toContain('Reference: INC-2026-001. Questions: contact our support team.');
    // The status-page audience never sees the internal title.
    expect(mail?.text).not.toContain('Credential stuffing');
    expect(mail?.headers.get('x-idempotency-key')).toBe(key);
    expect(mail?.headers.get('x-incident-id')).toBe('INC-2026-001');
    expect(mail?.headers.get('auto-submitted')).toBe('auto-generated');

    // A different key is a different Message-ID; the same key always the same one.
    expect(messageIdFor('INC-2026-001/other', FROM)).not.toBe(messageId);
    expect(messageIdFor(key, 'alerts@example.com')).toBe(messageId);
  });

  it('accepts one message when the activity retries after the connection dropped before the reply', async () => {
    // The server stored the message, but the connection died before its "250": the client cannot tell.
    peer.faults.push({ kind: 'drop-after-store' });
    const cfg = config(peer.port);
    const params = { audience: 'internal', severity: 'P0', message: 'Kill switch enabled; file operations stopped.' };

    const first = await failure(notify(cfg, params));
    expect(first).toBeInstanceOf(SmtpUnavailableError);
    expect(first).not.toBeInstanceOf(ApplicationFailure); // thrown as is: Temporal retries it
    expect(first.message).toContain('(retryable)');

    const second = await notify(cfg, params);
    const messageId = messageIdFor('INC-2026-001/notify-users', FROM);
    expect(second).toMatchObject({ delivered: 'smtp', messageId });

    expect(peer.transactions.map((t) => [t.messageId, t.outcome])).toEqual([
      [messageId, 'dropped-after-store'],
      [messageId, 'duplicate'],
    ]);
    expect([...peer.mailbox.keys()]).toEqual([messageId]);
    expect(peer.mailbox.get(messageId)?.subject).toBe(
      '[P0 Critical] INC-2026-001: Kill switch enabled; file operations stopped.',
    );

    // Yet another attempt (the completion was lost, say) sends nothing at all: the sent-log knows the key.
    await expect(notify(cfg, params)).resolves.toEqual({
      channel: 'mail',
      delivered: 'duplicate',
      sentAt: NOW.toISOString(),
      messageId,
    });
    expect(peer.transactions).toHaveLength(2);
  });

  it('accepts one message when the first attempt dropped before the server stored anything', async () => {
    peer.faults.push({ kind: 'drop-before-store' });
    const cfg = config(peer.port);
    const params = { audience: 'executive', severity: 'P0', message: 'Data breach confirmed.' };
    await expect(notify(cfg, params)).rejects.toBeInstanceOf(SmtpUnavailableError);
    await notify(cfg, params);
    expect(peer.transactions.map((t) => t.outcome)).toEqual(['dropped-before-store', 'accepted']);
    expect(peer.mailbox.size).toBe(1);
    expect([...peer.mailbox.values()][0]?.subject).toBe(
      '[Executive briefing] Critical incident INC-2026-001: Data breach confirmed.',
    );
  });

  it('treats 4xx as retryable and 5xx as a non-retryable SmtpRejectedError', async () => {
    const cfg = config(peer.port);
    peer.faults.push({ kind: 'reply', code: 451, message: 'Try again later' });
    const transient = await failure(notify(cfg, { message: 'one' }, 'k-451'));
    expect(transient).toBeInstanceOf(SmtpUnavailableError);
    expect((transient as SmtpUnavailableError).responseCode).toBe(451);

    peer.faults.push({ kind: 'reply', code: 550, message: 'Message rejected as spam' });
    const permanent = await failure(notify(cfg, { message: 'two' }, 'k-550'));
    expect(permanent).toBeInstanceOf(ApplicationFailure);
    expect((permanent as ApplicationFailure).nonRetryable).toBe(true);
    expect((permanent as ApplicationFailure).type).toBe('SmtpRejectedError');
    expect(permanent.message).toContain('smtp channel "mail" (127.0.0.1:');
    expect(permanent.message).toContain('550 Message rejected as spam');
    expect(peer.mailbox.size).toBe(0);
  });

  it('reports a refused connection as retryable', async () => {
    const port = peer.port;
    await peer.close();
    const error = await failure(notify(config(port), { message: 'hello' }));
    expect(error).toBeInstanceOf(SmtpUnavailableError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    peer = await startSmtpPeer(); // for afterEach
  });
});

describe('smtp channel with authentication', () => {
  const VAR = 'SMTP_TEST_PASSWORD';

  beforeEach(async () => {
    peer = await startSmtpPeer({ user: 'alerts', pass: 'correct horse battery staple' });
    base = tempDir('smtp-auth-test');
  });

  afterEach(async () => {
    delete process.env[VAR];
    await peer.close();
    await rm(base, { recursive: true, force: true });
  });

  it('reads the password from the environment when sending', async () => {
    process.env[VAR] = 'correct horse battery staple';
    await notify(config(peer.port, { auth: { user: 'alerts', password: { fromEnv: VAR } } }), { message: 'hello' });
    expect(peer.mailbox.size).toBe(1);
  });

  it('fails non-retryably, without connecting, when the variable is unset', async () => {
    const error = await failure(
      notify(config(peer.port, { auth: { user: 'alerts', password: { fromEnv: VAR } } }), { message: 'hello' }),
    );
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
    expect(error.message).toContain(`environment variable ${VAR} (auth.password.fromEnv) is not set`);
    expect(peer.connections).toBe(0);
  });

  it('fails non-retryably on 535 without putting the password in the message', async () => {
    process.env[VAR] = 'wrong-password-123';
    const error = await failure(
      notify(config(peer.port, { auth: { user: 'alerts', password: { fromEnv: VAR } } }), { message: 'hello' }),
    );
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('SmtpRejectedError');
    expect(error.message).toContain('535');
    expect(error.message).not.toContain('wrong-password-123');
    expect(peer.mailbox.size).toBe(0);
  });

  it('rejects an inline password in the config file: only fromEnv is accepted', () => {
    const parsed = EngineConfigFile.safeParse({
      channels: {
        mail: {
          type: 'smtp',
          host: 'smtp.example.com',
          from: FROM,
          to: TO,
          auth: { user: 'alerts', password: 'hunter2' },
        },
      },
    });
    expect(parsed.success).toBe(false);
    const bad = EngineConfigFile.safeParse({
      channels: { mail: { type: 'smtp', host: 'smtp.example.com', from: FROM, to: ['not an address'] } },
    });
    expect(bad.success).toBe(false);
  });
});

describe('smtp channel under Temporal retries', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let cfg: EngineConfig;
  const taskQueue = 'smtp-retry-test';

  beforeAll(async () => {
    peer = await startSmtpPeer();
    base = tempDir('smtp-temporal-test');
    cfg = { ...config(peer.port), taskQueue };
    env = await createTimeSkippingEnv();
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      config: cfg,
      workflowBundle: await bundleWorkflows(),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await peer.close();
    await rm(base, { recursive: true, force: true });
  });

  it('the step completes after Temporal retries the activity, and the mailbox holds one message', async () => {
    peer.faults.push({ kind: 'drop-after-store' }, { kind: 'drop-before-store' });
    const input: PhaseInput = {
      incidentId: 'INC-2026-042',
      phase: 'detect',
      drill: false,
      context: { incident: { id: 'INC-2026-042', severity: 'P1', title: 'Unauthorized access' } },
      steps: [
        {
          id: 'page-security',
          action: 'notify.send',
          with: {
            audience: 'internal',
            severity: '${incident.severity}',
            title: '${incident.title}',
            message: 'Admin account used from an unknown network.',
          },
        },
      ],
    };
    const result = await env.client.workflow.execute<(input: PhaseInput) => Promise<PhaseResult>>('detectPhase', {
      args: [input],
      workflowId: 'INC-2026-042.detect',
      taskQueue,
    });

    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ stepId: 'page-security', status: 'completed' });
    const messageId = messageIdFor('INC-2026-042/page-security', FROM);
    expect(result.steps[0]?.output).toMatchObject({ delivered: 'smtp', messageId });
    expect(peer.transactions.map((t) => [t.messageId, t.outcome])).toEqual([
      [messageId, 'dropped-after-store'],
      [messageId, 'dropped-before-store'],
      [messageId, 'duplicate'],
    ]);
    expect([...peer.mailbox.keys()]).toEqual([messageId]);
    expect(peer.mailbox.get(messageId)?.subject).toBe('[P1 High] INC-2026-042: Unauthorized access');
  });
});
