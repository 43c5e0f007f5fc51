// http.request through createActivities, inside a MockActivityEnvironment, against real loopback peers (the
// reference emergency API and a small echo server): the host allow-list, expected statuses, retries applied once,
// auth failures, redirects not followed, bad parameters. Must never mock fetch or the network.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { hostAllowed } from '../../activities/actions/http-request';
import { renderTemplate } from '../../domain/template';
import { HttpUnavailableError } from '../../activities/errors';
import { buildConfig, EngineConfigFile, type EngineConfig } from '../../src/config';
import type { ActionInput } from '../../domain/actions';
import { type EmergencyApiServer, startEmergencyApiServer } from '../helpers/emergency-api-server';

const INCIDENT = 'INC-2026-101';

let app: EmergencyApiServer;
let echo: Server;
let echoUrl: string;
let echoRequests: { method: string; url: string; headers: Record<string, unknown>; body: string }[];
let dir: string;

beforeEach(async () => {
  app = await startEmergencyApiServer({ token: 'http-test-token' });
  echoRequests = [];
  // Answers by path: /status/<n> with that status, /redirect with a 302 to elsewhere, anything else 200 + an echo.
  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      echoRequests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
      if (status) {
        res.writeHead(Number(status[1]), { 'Content-Type': 'text/plain' });
        return res.end(`status ${status[1]} as asked`);
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { Location: 'http://elsewhere.example.com/steal?token=abc' });
        return res.end();
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          received: body === '' ? null : (JSON.parse(body) as unknown),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), 'http-request-test-'));
});

afterEach(async () => {
  await app.close();
  await new Promise<void>((resolve) => {
    echo.close(() => resolve());
    echo.closeAllConnections();
  });
  await rm(dir, { recursive: true, force: true });
});

function config(allowHosts: string[] = ['127.0.0.1']): EngineConfig {
  return buildConfig(EngineConfigFile.parse({ dataDir: 'data', http: { allowHosts } }), dir);
}

function input(stepId: string, params: Record<string, unknown>): ActionInput {
  return {
    incidentId: INCIDENT,
    phase: 'recover',
    stepId,
    action: 'http.request',
    params,
    drill: false,
    idempotencyKey: `${INCIDENT}/${stepId}`,
  };
}

async function run(
  stepInput: ActionInput,
  options: { attempt?: number; engine?: EngineConfig } = {},
): Promise<unknown> {
  const activities = createActivities({ config: options.engine ?? config() });
  const env = new MockActivityEnvironment({ attempt: options.attempt ?? 1 }, { logger: new DefaultLogger('ERROR') });
  return env.run(activities['http.request'], stepInput);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, received ${String(error)}`);
  return error;
}

describe('http.request to an allowed host', () => {
  it('sends GET by default with the Idempotency-Key and returns the status and JSON body', async () => {
    const output = await run(input('probe', { url: `${echoUrl}/health` }));
    expect(output).toEqual({ status: 200, body: { method: 'GET', url: '/health', received: null }, attempt: 1 });
    expect(echoRequests[0]?.headers['idempotency-key']).toBe(`${INCIDENT}/probe`);
    expect(echoRequests[0]?.headers['user-agent']).toBe('incident-engine');
  });

  it('sends a JSON body and headers; the step cannot replace the Idempotency-Key', async () => {
    await run(
      input('post', {
        method: 'post',
        url: `${echoUrl}/hook`,
        headers: { 'X-Incident': INCIDENT, 'Idempotency-Key': 'spoofed' },
        body: { a: [1, 2] },
      }),
    );
    const [request] = echoRequests;
    expect(request?.method).toBe('POST');
    expect(JSON.parse(request?.body ?? '')).toEqual({ a: [1, 2] });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-incident']).toBe(INCIDENT);
    expect(request?.headers['idempotency-key']).toBe(`${INCIDENT}/post`);
  });

  it('changes the emergency API once across a 503 and a retry', async () => {
    app.failNext(1, { kind: 'status', status: 503 });
    const step = input('kill', {
      method: 'POST',
      url: `${app.url}/api/emergency/kill-switch/enable`,
      headers: { Authorization: `Bearer ${app.token}` },
    });

    const error = await failure(run(step));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(app.effects).toHaveLength(0);

    await expect(run(step, { attempt: 2 })).resolves.toMatchObject({
      status: 200,
      body: { enabled: true, previous: false },
      attempt: 2,
    });
    await run(step, { attempt: 3 });
    expect(app.effects).toHaveLength(1);
    expect(app.state.killSwitch).toBe(true);
  });

  it('reports a 401 as a non-retryable HttpAuthError', async () => {
    const error = await failure(
      run(
        input('kill', {
          method: 'POST',
          url: `${app.url}/api/emergency/kill-switch/enable`,
          headers: { Authorization: 'Bearer nope' },
        }),
      ),
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('HttpAuthError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain('received 401 Unauthorized; body: ');
    expect(error.message).toContain("check the credentials in the step's headers; not retried");
    expect(app.effects).toHaveLength(0);
  });

  it('succeeds only on the expected status, and fails without retrying on another final one', async () => {
    await expect(run(input('gone', { url: `${echoUrl}/status/404`, expectStatus: [404, 410] }))).resolves.toMatchObject(
      {
        status: 404,
        body: 'status 404 as asked',
      },
    );

    const error = await failure(run(input('created', { url: `${echoUrl}/hook`, expectStatus: 201 })));
    expect((error as ApplicationFailure).type).toBe('HttpRejectedError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain(
      `http.request (step created): GET ${echoUrl}/hook: expected status 201, received 200 OK`,
    );

    const unavailable = await failure(run(input('busy', { url: `${echoUrl}/status/503`, expectStatus: 200 })));
    expect(unavailable).toBeInstanceOf(HttpUnavailableError);
  });

  it('does not follow a redirect (which could leave the allow-list), and keeps the query string out of the message', async () => {
    const error = await failure(run(input('redirect', { url: `${echoUrl}/redirect` })));
    expect((error as ApplicationFailure).type).toBe('HttpRejectedError');
    expect(error.message).toContain('received 302 Found');
    expect(error.message).toContain('redirect to http://elsewhere.example.com/steal?… not followed');
    expect(error.message).not.toContain('token=abc');
    expect(echoRequests).toHaveLength(1);
  });
});

describe('the allow-list', () => {
  it('refuses a host that is not listed, naming the host and the allow-list, without sending anything', async () => {
    const engine = config(['status.example.com', `127.0.0.1:${new URL(app.url).port}`]);
    const error = await failure(run(input('probe', { url: `${echoUrl}/health?token=secret` }), { engine }));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('HostNotAllowedError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toBe(
      `http.request (step probe): host "${new URL(echoUrl).host}" is not in http.allowHosts (status.example.com, 127.0.0.1:${new URL(app.url).port}); add it to incident-engine.yaml to allow it`,
    );
    expect(echoRequests).toHaveLength(0);

    // The listed port of the same address is allowed.
    await expect(
      run(
        input('validate', {
          url: `${app.url}/api/integrity/validate`,
          headers: { Authorization: `Bearer ${app.token}` },
        }),
        { engine },
      ),
    ).resolves.toMatchObject({
      status: 200,
      body: { valid: true },
    });
  });

  it('refuses every host when the allow-list is empty', async () => {
    const error = await failure(run(input('probe', { url: `${echoUrl}/health` }), { engine: config([]) }));
    expect(error.message).toContain('is not in http.allowHosts (empty: every host is refused)');
  });

  it('matches exact hosts, host:port (default ports included) and *.domain subdomains', () => {
    const allowed = (url: string, list: string[]) => hostAllowed(new URL(url), list);
    expect(allowed('https://status.example.com/x', ['status.example.com'])).toBe(true);
    expect(allowed('https://STATUS.example.com:8443/x', ['status.example.com'])).toBe(true);
    expect(allowed('https://status.example.com.evil.test/x', ['status.example.com'])).toBe(false);
    expect(allowed('https://status.example.com/x', ['status.example.com:443'])).toBe(true);
    expect(allowed('http://status.example.com/x', ['status.example.com:443'])).toBe(false);
    expect(allowed('https://a.b.internal.example/x', ['*.internal.example'])).toBe(true);
    expect(allowed('https://internal.example/x', ['*.internal.example'])).toBe(false);
    expect(allowed('https://evilinternal.example/x', ['*.internal.example'])).toBe(false);
    expect(allowed('http://[::1]:8080/x', ['[::1]:8080'])).toBe(true);
    expect(allowed('http://[::1]:8081/x', ['[::1]:8080'])).toBe(false);
  });

  it('refuses malformed allow-list entries in the config, naming the entry', () => {
    const parsed = EngineConfigFile.safeParse({ http: { allowHosts: ['https://status.example.com/'] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['http', 'allowHosts', 0]);
    expect(parsed.error?.issues[0]?.message).toContain('expected a host name, host:port or *.domain');
  });
});

describe('bad parameters', () => {
  it('are refused naming the field, before anything is sent', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://127.0.0.1/file' }, 'url: expected an absolute http(s) URL'],
      [{ url: 'not a url' }, 'url: expected an absolute http(s) URL'],
      [{ method: 'FETCH', url: `${echoUrl}/x` }, 'method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE'],
      [{ url: `${echoUrl}/x`, expectStatus: 700 }, 'expectStatus'],
      [{ url: `${echoUrl}/x`, headers: { 'X-Count': 3 } }, 'headers.X-Count: expected a header value as a string'],
      [{ url: `${echoUrl}/x`, verb: 'GET' }, 'with: Unrecognized key: "verb"'],
    ];
    for (const [params, message] of cases) {
      const error = await failure(run(input('bad', params)));
      expect((error as ApplicationFailure).type, JSON.stringify(params)).toBe('InvalidActionInputError');
      expect(error.message).toContain(`http.request (step bad): ${message}`);
    }
    const withBody = await failure(run(input('bad', { method: 'GET', url: `${echoUrl}/x`, body: { a: 1 } })));
    expect(withBody.message).toBe('http.request (step bad): body: expected no body with GET, received one');
    const userInfo = await failure(run(input('bad', { url: `http://admin:hunter2@127.0.0.1:1/x` })));
    expect(userInfo.message).toContain('expected a URL without user info');
    expect(userInfo.message).not.toContain('hunter2');
    expect(echoRequests).toHaveLength(0);
  });
});

describe('template values in an http.request URL', () => {
  // What a step's `url: ${...}` becomes: the workflow renders the template, then the activity sends it.
  const context = { alert: { labels: { odd: 'a/b?c=1#d', up: '..', here: '.' } } };

  it('are encoded for the path, so "/", "?" and "#" in a value stay inside its one segment', async () => {
    const url = renderTemplate(
      `${app.url}/api/emergency/safe-mode/\${alert.labels.odd}?for=\${alert.labels.odd}`,
      context,
    );
    expect(url).toBe(`${app.url}/api/emergency/safe-mode/a%2Fb%3Fc%3D1%23d?for=a%2Fb%3Fc%3D1%23d`);
    await run(input('odd', { method: 'POST', url, expectStatus: [200, 400, 401, 404] }));
    expect(app.requests.map((r) => r.path)).toEqual(['/api/emergency/safe-mode/a%2Fb%3Fc%3D1%23d']);
  });

  it('refuses "." and ".." as a path segment, in the template and in the URL the activity is given', async () => {
    for (const label of ['up', 'here']) {
      const template = `${app.url}/api/emergency/\${alert.labels.${label}}/kill-switch/enable`;
      expect(() => renderTemplate(template, context)).toThrow(
        `template path "alert.labels.${label}" in URL ${JSON.stringify(template)} is "${context.alert.labels[label as 'up']}", which as a URL path segment would change the resource addressed`,
      );
    }
    // A `..` that reaches the activity some other way is refused before anything is sent.
    const error = await run(
      input('dots', { method: 'POST', url: `${app.url}/api/users/../emergency/kill-switch/enable` }),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
    expect((error as ApplicationFailure).message).toBe(
      `http.request (step dots): url: expected a path without "." or ".." segments, received ${JSON.stringify(`${app.url}/api/users/../emergency/kill-switch/enable`)}`,
    );
    // In the query a dot is only data.
    expect(renderTemplate(`${app.url}/x?dir=\${alert.labels.up}`, context)).toBe(`${app.url}/x?dir=..`);
    expect(app.requests).toHaveLength(0);
  });
});
