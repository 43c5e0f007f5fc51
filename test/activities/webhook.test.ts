// Webhook delivery against a real HTTP peer (test/helpers/webhook-sink.ts): headers, classification, idempotency.
// Must never mock fetch or the network: every case goes over a real loopback socket.
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NON_RETRYABLE_ERROR_TYPES, RETRYABLE_ERROR_TYPES, isNonRetryable } from '../../domain/errors';
import {
  InvalidActionInputError,
  NonRetryableActionError,
  HttpRejectedError,
  HttpUnavailableError,
} from '../../activities/errors';
import { postWebhook } from '../../activities/notify/webhook';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';

let sink: WebhookSink;

beforeEach(async () => {
  sink = await startWebhookSink();
});

afterEach(async () => {
  await sink.close();
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, received ${String(error)}`);
  return error;
}

describe('postWebhook', () => {
  it('delivers JSON with Content-Type, Idempotency-Key, User-Agent and extra headers', async () => {
    const body = { incident: 'INC-2026-001', text: 'Safe mode enabled', nested: { level: 2 } };
    const result = await postWebhook({
      url: `${sink.url}/hooks/alerts`,
      body,
      idempotencyKey: 'INC-2026-001:notify',
      headers: { 'X-Incident': 'INC-2026-001' },
      attempt: 3,
    });

    expect(result).toEqual({ status: 200, attempt: 3 });
    expect(sink.requests).toHaveLength(1);
    const [request] = sink.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hooks/alerts');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('INC-2026-001:notify');
    expect(request?.headers['user-agent']).toBe('incident-engine');
    expect(request?.headers['x-incident']).toBe('INC-2026-001');
    expect(request?.body).toEqual(body);
    expect(sink.effects()).toEqual(new Map([['INC-2026-001:notify', body]]));
  });

  it('does not let extra headers replace the idempotency key or content type', async () => {
    await postWebhook({
      url: sink.url,
      body: {},
      idempotencyKey: 'real-key',
      headers: { 'idempotency-key': 'spoofed', 'content-type': 'text/plain' },
    });
    expect(sink.requests[0]?.headers['idempotency-key']).toBe('real-key');
    expect(sink.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('reports 503 as a retryable HttpUnavailableError, then succeeds on the next attempt', async () => {
    sink.setBehaviour({ failFirst: 1, failStatus: 503, failBody: 'maintenance' });
    const request = { url: `${sink.url}/hook`, body: { n: 1 }, idempotencyKey: 'k-503' };

    const error = await rejection(postWebhook(request));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error).not.toBeInstanceOf(NonRetryableActionError);
    expect(error.name).toBe('HttpUnavailableError');
    expect(NON_RETRYABLE_ERROR_TYPES).not.toContain(error.name);
    expect((error as HttpUnavailableError).status).toBe(503);
    expect(error.message).toContain('expected a 2xx status, received 503');
    expect(error.message).toContain('maintenance');
    expect(sink.effects().size).toBe(0);

    await expect(postWebhook(request)).resolves.toEqual({ status: 200 });
    expect(sink.deliveriesFor('k-503').map((r) => r.status)).toEqual([503, 200]);
    expect(sink.effects()).toEqual(new Map([['k-503', { n: 1 }]]));
  });

  it.each([408, 429, 500, 502])('treats %i as retryable', async (status) => {
    sink.setBehaviour({ failFirst: 1, failStatus: status });
    const error = await rejection(postWebhook({ url: sink.url, body: {}, idempotencyKey: `k-${status}` }));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect((error as HttpUnavailableError).status).toBe(status);
  });

  it('reports 400 as a non-retryable HttpRejectedError carrying the status and a body excerpt', async () => {
    const longBody = `bad payload: field "text" is required. ${'x'.repeat(500)}`;
    sink.setBehaviour({ failFirst: 1, failStatus: 400, failBody: longBody });

    const error = await rejection(postWebhook({ url: `${sink.url}/hook`, body: {}, idempotencyKey: 'k-400' }));
    expect(error).toBeInstanceOf(HttpRejectedError);
    expect(error).toBeInstanceOf(NonRetryableActionError);
    expect(error.name).toBe('HttpRejectedError');
    expect(NON_RETRYABLE_ERROR_TYPES).toContain(error.name);
    const rejected = error as HttpRejectedError;
    expect(rejected.status).toBe(400);
    expect(rejected.bodyExcerpt).toBe(`${longBody.slice(0, 200)}…`);
    expect(error.message).toContain(`${sink.url}/hook`);
    expect(error.message).toContain('expected a 2xx status, received 400 Bad Request');
    expect(error.message).toContain('bad payload: field \\"text\\" is required.');
    expect(error.message).not.toContain('x'.repeat(201));
  });

  it('names the URL (without its query string) when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const url = `http://127.0.0.1:${port}/hook?token=secret`;
    const error = await rejection(postWebhook({ url, body: {}, idempotencyKey: 'k-refused' }));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error.message).toContain(`http://127.0.0.1:${port}/hook`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('secret');
    expect((error as HttpUnavailableError).status).toBeUndefined();
  });

  it('gives up after timeoutMs with a retryable error', async () => {
    sink.setBehaviour({ delayMs: 2_000 });
    const started = performance.now();
    const error = await rejection(postWebhook({ url: sink.url, body: {}, idempotencyKey: 'k-slow', timeoutMs: 150 }));
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error.message).toContain('within 150 ms (timeout)');
  });

  it('is applied once by the peer when the same key is delivered again', async () => {
    const first = { text: 'first' };
    await postWebhook({ url: sink.url, body: first, idempotencyKey: 'INC-2026-002:page' });
    await postWebhook({ url: sink.url, body: { text: 'second' }, idempotencyKey: 'INC-2026-002:page' });
    await postWebhook({ url: sink.url, body: { text: 'other' }, idempotencyKey: 'INC-2026-002:other' });

    expect(sink.deliveriesFor('INC-2026-002:page')).toHaveLength(2);
    expect(sink.deliveriesFor('INC-2026-002:page').map((r) => r.applied)).toEqual([true, false]);
    expect(sink.effects().get('INC-2026-002:page')).toEqual(first);
    expect(sink.effects().size).toBe(2);
  });

  it('refuses malformed input before sending anything', async () => {
    const cases = [
      { url: 'ftp://example.test/x', body: {}, idempotencyKey: 'k' },
      { url: 'not a url', body: {}, idempotencyKey: 'k' },
      { url: 'https://user:hunter2@example.test/hook', body: {}, idempotencyKey: 'k' },
      { url: sink.url, body: {}, idempotencyKey: '' },
      { url: sink.url, body: undefined, idempotencyKey: 'k' },
      { url: sink.url, body: { big: 1n }, idempotencyKey: 'k' },
      { url: sink.url, body: {}, idempotencyKey: 'k', headers: { 'bad header': 'x' } },
      { url: sink.url, body: {}, idempotencyKey: 'k', timeoutMs: 0 },
    ];
    for (const request of cases) {
      const error = await rejection(postWebhook(request));
      expect(error, JSON.stringify(request.url)).toBeInstanceOf(InvalidActionInputError);
      expect(error.message).toMatch(/expected .+, received /);
      expect(error.message).not.toContain('hunter2');
    }
    expect(sink.requests).toHaveLength(0);
  });
});

describe('activity errors', () => {
  it('use their class name as Error.name, and the retry table lists exactly the non-retryable ones', async () => {
    const errors = await import('../../activities/errors');
    const ledger = await import('../../activities/ledger');
    const classes = ([...Object.values(errors), ledger.LedgerCorruptError, ledger.LedgerBusyError] as unknown[]).filter(
      (value): value is new (...args: unknown[]) => Error =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    const nonRetryable: string[] = [];
    for (const ErrorClass of classes) {
      const instance = new ErrorClass('m', { url: 'https://peer.test/', status: 500, bodyExcerpt: '' });
      expect(instance.name).toBe(ErrorClass.name);
      expect(instance.constructor.name).toBe(ErrorClass.name);
      expect(isNonRetryable(instance.name), ErrorClass.name).toBe(instance instanceof NonRetryableActionError);
      if (instance instanceof NonRetryableActionError) nonRetryable.push(instance.name);
    }
    // Every listed type is thrown by some class: the table names nothing that does not exist.
    expect([...nonRetryable].sort()).toEqual([...NON_RETRYABLE_ERROR_TYPES].sort());
    for (const type of RETRYABLE_ERROR_TYPES) expect(classes.map((c) => c.name)).toContain(type);
  });
});
