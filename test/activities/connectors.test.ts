// Connector actions (network.*, credentials.*, sessions.*, accounts.*, endpoint.*, circuitBreaker.*) through
// createActivities, inside a MockActivityEnvironment, against a stateful control plane
// (test/helpers/control-plane-server.ts) over real loopback sockets: templates, secrets from the environment,
// effects once per key, retries, auth, compensation planning, config validation. Must never mock fetch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Activities, createActivities } from '../../activities';
import { renderConnectorBody } from '../../activities/actions/connectors';
import { HttpUnavailableError } from '../../activities/errors';
import { buildConfig, EngineConfigFile, type EngineConfig } from '../../src/config';
import { ACTION_PARAMS, ACTIONS, type ActionInput, type ActionName } from '../../domain/actions';
import { CONNECTOR_ACTION_NAMES } from '../../domain/actions/connectors';
import { type ControlPlaneServer, startControlPlaneServer } from '../helpers/control-plane-server';

const INCIDENT = 'INC-2026-077';
const TOKEN_ENV = 'CONNECTOR_TEST_FIREWALL_TOKEN';

let peer: ControlPlaneServer;
let dir: string;

beforeEach(async () => {
  peer = await startControlPlaneServer('cp-test-token-9f2e');
  dir = await mkdtemp(path.join(tmpdir(), 'connectors-test-'));
  process.env[TOKEN_ENV] = peer.token;
});

afterEach(async () => {
  delete process.env[TOKEN_ENV];
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

/** The incident-engine.yaml contents a deployment would have, pointed at the test control plane. */
function configFile(): Record<string, unknown> {
  const headers = { Authorization: { fromEnv: TOKEN_ENV, prefix: 'Bearer ' }, 'X-Caller': 'incident-engine' };
  const at = (suffix: string) => `${peer.url}/v1/${suffix}`;
  return {
    dataDir: 'data',
    connectors: {
      'firewall-block': {
        url: at('firewall/blocks'),
        headers,
        body: {
          targets: '${params.targets}',
          reason: '${params.reason}',
          incident: '${incident.id}',
          note: 'blocked for ${incident.id} (${incident.phase}) by step ${step.id}',
        },
      },
      'firewall-unblock': {
        url: at('firewall/blocks'),
        method: 'DELETE',
        headers,
        body: { targets: '${params.targets}' },
      },
      keys: { url: at('keys/${params.keyId}/rotate'), headers },
      sessions: { url: at('sessions/revoke'), headers, body: { user: '${params.user}', all: '${params.all}' } },
      'idp-suspend': { url: at('accounts/${params.account}/suspend'), headers },
      'idp-reinstate': { url: at('accounts/${params.account}/reinstate'), headers },
      'gateway-disable': { url: at('endpoints/${params.endpoint}/disable'), headers },
      'gateway-enable': { url: at('endpoints/${params.endpoint}/enable'), headers },
      'mesh-open': { url: at('breakers/${params.breaker}'), method: 'PUT', headers, body: { state: 'open' } },
      'mesh-close': { url: at('breakers/${params.breaker}'), method: 'PUT', headers, body: { state: 'closed' } },
    },
    connectorFor: {
      'network.blockSource': 'firewall-block',
      'network.unblockSource': 'firewall-unblock',
      'credentials.rotateApiKey': 'keys',
      'sessions.revoke': 'sessions',
      'accounts.suspend': 'idp-suspend',
      'accounts.reinstate': 'idp-reinstate',
      'endpoint.disable': 'gateway-disable',
      'endpoint.enable': 'gateway-enable',
      'circuitBreaker.open': 'mesh-open',
      'circuitBreaker.close': 'mesh-close',
    },
  };
}

function config(file: Record<string, unknown> = configFile()): EngineConfig {
  return buildConfig(EngineConfigFile.parse(file), dir);
}

function input(
  action: ActionName,
  stepId: string,
  params: Record<string, unknown>,
  extra: Partial<ActionInput> = {},
): ActionInput {
  return {
    incidentId: INCIDENT,
    phase: 'contain',
    stepId,
    action,
    params,
    drill: false,
    idempotencyKey: `${INCIDENT}/${stepId}`,
    ...extra,
  };
}

async function run(
  action: ActionName & keyof Activities,
  stepInput: ActionInput,
  options: { attempt?: number; engine?: EngineConfig } = {},
): Promise<unknown> {
  const activities = createActivities({ config: options.engine ?? config() });
  const env = new MockActivityEnvironment({ attempt: options.attempt ?? 1 }, { logger: new DefaultLogger('ERROR') });
  return env.run(activities[action], stepInput);
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure | Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, received ${String(error)}`);
  return error;
}

function compensationFor(action: ActionName, params: Record<string, unknown>, output?: unknown) {
  const spec = ACTIONS[action] as { compensate?: (params: unknown, output: unknown) => unknown };
  return spec.compensate?.(ACTION_PARAMS[action].parse(params), output);
}

describe('network.blockSource and network.unblockSource', () => {
  it('blocks once through the mapped connector: body from the template, token from the environment, idempotency key', async () => {
    const output = await run(
      'network.blockSource',
      input('network.blockSource', 'block-attacker', {
        targets: ['203.0.113.7', '2001:db8::/32'],
        reason: 'credential stuffing',
      }),
    );

    expect(output).toEqual({
      connector: 'firewall-block',
      status: 201,
      response: { added: ['203.0.113.7', '2001:db8::/32'], already: [] },
      attempt: 1,
    });
    expect([...peer.state.blocked]).toEqual(['203.0.113.7', '2001:db8::/32']);
    expect(peer.effects).toHaveLength(1);
    const [request] = peer.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/firewall/blocks',
      idempotencyKey: `${INCIDENT}/block-attacker`,
      authorized: true,
    });
    // A whole-value placeholder keeps its JSON type (the list stays a list); text placeholders become text.
    expect(request?.body).toEqual({
      targets: ['203.0.113.7', '2001:db8::/32'],
      reason: 'credential stuffing',
      incident: INCIDENT,
      note: `blocked for ${INCIDENT} (contain) by step block-attacker`,
    });
  });

  it('accepts one address as a string, and leaves out body keys whose whole-value placeholder has no value', async () => {
    await run('network.blockSource', input('network.blockSource', 'block', { targets: '198.51.100.0/24' }));
    expect(peer.requests[0]?.body).toEqual({
      targets: ['198.51.100.0/24'],
      incident: INCIDENT,
      note: `blocked for ${INCIDENT} (contain) by step block`,
    });
  });

  it('reports a 503 as retryable and blocks once on the next attempt', async () => {
    peer.failNext(1, { kind: 'status', status: 503 });
    const step = input('network.blockSource', 'block', { targets: ['203.0.113.7'] });

    const error = await failure(run('network.blockSource', step));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error.message).toContain('network.blockSource (step block) via connector firewall-block: POST');
    expect(peer.effects).toHaveLength(0);

    await run('network.blockSource', step, { attempt: 2 });
    await run('network.blockSource', step, { attempt: 3 });
    expect(peer.effects).toHaveLength(1);
    expect(peer.requests.map((r) => [r.status, r.replayed])).toEqual([
      [503, false],
      [201, false],
      [201, true],
    ]);
  });

  it('plans network.unblockSource with the same targets as the undo, which removes the block', async () => {
    const params = { targets: ['203.0.113.7', '198.51.100.0/24'] };
    const output = await run('network.blockSource', input('network.blockSource', 'block', params));
    const undo = compensationFor('network.blockSource', params, output);
    expect(undo).toEqual({ action: 'network.unblockSource', with: { targets: ['203.0.113.7', '198.51.100.0/24'] } });

    const { action, with: undoParams } = undo as {
      action: ActionName & keyof Activities;
      with: Record<string, unknown>;
    };
    await run(action, input(action, 'block', undoParams, { idempotencyKey: `${INCIDENT}/block/undo` }));
    expect(peer.state.blocked.size).toBe(0);
    expect(peer.effects.map((e) => [e.key, e.op])).toEqual([
      [`${INCIDENT}/block`, 'block'],
      [`${INCIDENT}/block/undo`, 'unblock'],
    ]);
    expect(peer.requests[1]).toMatchObject({ method: 'DELETE', body: { targets: ['203.0.113.7', '198.51.100.0/24'] } });
  });

  it('refuses addresses that are not IPv4/IPv6 addresses or CIDRs, naming the field and the value', async () => {
    const cases: [unknown, string][] = [
      [
        ['203.0.113.7', 'evil.example.com'],
        'targets[1]: expected an IPv4/IPv6 address or CIDR, like 203.0.113.7, 2001:db8::1 or 198.51.100.0/24; received "evil.example.com"',
      ],
      [
        '10.0.0.0/33',
        'targets: expected an IPv4/IPv6 address or CIDR, like 203.0.113.7, 2001:db8::1 or 198.51.100.0/24; received "10.0.0.0/33"',
      ],
      [
        [],
        'targets: expected an IPv4/IPv6 address or CIDR, like 203.0.113.7, 2001:db8::1 or 198.51.100.0/24; received an empty list',
      ],
      ['0.0.0.0/0', 'targets: expected a CIDR narrower than /0 ("0.0.0.0/0" covers every address)'],
    ];
    for (const [targets, message] of cases) {
      const error = await failure(run('network.blockSource', input('network.blockSource', 'block', { targets })));
      expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
      expect((error as ApplicationFailure).nonRetryable).toBe(true);
      expect(error.message).toBe(`network.blockSource (step block): ${message}`);
    }
    expect(peer.requests).toHaveLength(0);
  });
});

describe('the other connector actions', () => {
  it('rotates an API key once, and plans no undo', async () => {
    const step = input('credentials.rotateApiKey', 'rotate', { keyId: 'ci-deploy-key' });
    const output = await run('credentials.rotateApiKey', step);
    await run('credentials.rotateApiKey', step, { attempt: 2 });

    expect(output).toMatchObject({ connector: 'keys', status: 200, response: { keyId: 'ci-deploy-key', version: 2 } });
    expect(peer.state.keys.get('ci-deploy-key')).toBe(2);
    expect(peer.effects).toHaveLength(1);
    expect(compensationFor('credentials.rotateApiKey', { keyId: 'ci-deploy-key' }, output)).toBeUndefined();
  });

  it("revokes one user's sessions or every session, and plans no undo", async () => {
    await run('sessions.revoke', input('sessions.revoke', 'revoke-alice', { user: 'alice' }));
    await run('sessions.revoke', input('sessions.revoke', 'revoke-all', { all: true }));

    expect(peer.requests.map((r) => r.body)).toEqual([{ user: 'alice' }, { all: true }]);
    expect(peer.state.revoked).toEqual(['alice', '*']);
    expect(compensationFor('sessions.revoke', { user: 'alice' })).toBeUndefined();

    const error = await failure(run('sessions.revoke', input('sessions.revoke', 'revoke', {})));
    expect(error.message).toBe(
      "sessions.revoke (step revoke): user: expected exactly one of `user` (one user's sessions) or `all: true` (every session)",
    );
  });

  it('refuses "." and ".." as a path value, so a label value cannot make the URL address another resource', async () => {
    for (const account of ['..', '.']) {
      const error = await failure(run('accounts.suspend', input('accounts.suspend', 'suspend', { account })));
      expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
      expect(error.message).toBe(
        `connectors.idp-suspend.url: placeholder "\${params.account}" for accounts.suspend (step suspend) is "${account}", which as a URL path segment would change the resource addressed; expected a name, an id or other text`,
      );
    }
    expect(peer.requests).toHaveLength(0);
  });

  it('encodes a path value, so "/", "?", "#" and "%" in it stay inside its one segment', async () => {
    const account = 'ops/../alice?x=1#y%2e';
    peer.state.accounts.set(account, 'active');
    await run('accounts.suspend', input('accounts.suspend', 'suspend', { account }));
    expect(peer.requests.map((r) => r.path)).toEqual([`/v1/accounts/${encodeURIComponent(account)}/suspend`]);
    expect(peer.state.accounts.get(account)).toBe('suspended');
    expect(peer.state.accounts.get('user-4711')).toBe('active');
  });

  it('suspends and reinstates an account, each planning the other as its undo', async () => {
    await run('accounts.suspend', input('accounts.suspend', 'suspend', { account: 'user-4711' }));
    expect(peer.state.accounts.get('user-4711')).toBe('suspended');
    const undo = compensationFor('accounts.suspend', { account: 'user-4711' });
    expect(undo).toEqual({ action: 'accounts.reinstate', with: { account: 'user-4711' } });
    expect(compensationFor('accounts.reinstate', { account: 'user-4711' })).toEqual({
      action: 'accounts.suspend',
      with: { account: 'user-4711' },
    });

    await run(
      'accounts.reinstate',
      input('accounts.reinstate', 'suspend', { account: 'user-4711' }, { idempotencyKey: `${INCIDENT}/suspend/undo` }),
    );
    expect(peer.state.accounts.get('user-4711')).toBe('active');
    expect(peer.effects.map((e) => e.op)).toEqual(['suspend', 'reinstate']);
  });

  it('disables and enables an endpoint, URL-encoding the name into the path', async () => {
    const output = await run(
      'endpoint.disable',
      input('endpoint.disable', 'disable-upload', { endpoint: 'POST /api/upload' }),
    );
    expect(output).toMatchObject({
      connector: 'gateway-disable',
      response: { endpoint: 'POST /api/upload', status: 'disabled' },
    });
    expect(peer.requests[0]?.path).toBe('/v1/endpoints/POST%20%2Fapi%2Fupload/disable');
    expect(compensationFor('endpoint.disable', { endpoint: 'POST /api/upload' })).toEqual({
      action: 'endpoint.enable',
      with: { endpoint: 'POST /api/upload' },
    });

    await run(
      'endpoint.enable',
      input(
        'endpoint.enable',
        'disable-upload',
        { endpoint: 'POST /api/upload' },
        { idempotencyKey: `${INCIDENT}/disable-upload/undo` },
      ),
    );
    expect(peer.state.endpoints.get('POST /api/upload')).toBe('enabled');
  });

  it('opens and closes a circuit breaker with PUT, each planning the other as its undo', async () => {
    await run(
      'circuitBreaker.open',
      input('circuitBreaker.open', 'open-uploads', {
        breaker: 'file-uploads',
        reason: 'the Fiovana procedures: enable circuit breakers',
      }),
    );
    expect(peer.state.breakers.get('file-uploads')).toBe('open');
    expect(peer.requests[0]).toMatchObject({
      method: 'PUT',
      path: '/v1/breakers/file-uploads',
      body: { state: 'open' },
    });

    const undo = compensationFor('circuitBreaker.open', {
      breaker: 'file-uploads',
      reason: 'the Fiovana procedures: enable circuit breakers',
    });
    expect(undo).toEqual({
      action: 'circuitBreaker.close',
      with: { breaker: 'file-uploads', reason: 'the Fiovana procedures: enable circuit breakers' },
    });
    const { action, with: undoParams } = undo as {
      action: ActionName & keyof Activities;
      with: Record<string, unknown>;
    };
    await run(action, input(action, 'open-uploads', undoParams, { idempotencyKey: `${INCIDENT}/open-uploads/undo` }));
    expect(peer.state.breakers.get('file-uploads')).toBe('closed');
  });

  it('plans the inverse for every pair and nothing for rotate and revoke', () => {
    const inverses: Record<string, string | undefined> = {
      'network.blockSource': 'network.unblockSource',
      'network.unblockSource': 'network.blockSource',
      'credentials.rotateApiKey': undefined,
      'sessions.revoke': undefined,
      'accounts.suspend': 'accounts.reinstate',
      'accounts.reinstate': 'accounts.suspend',
      'endpoint.disable': 'endpoint.enable',
      'endpoint.enable': 'endpoint.disable',
      'circuitBreaker.open': 'circuitBreaker.close',
      'circuitBreaker.close': 'circuitBreaker.open',
    };
    expect(Object.keys(inverses).sort()).toEqual([...CONNECTOR_ACTION_NAMES].sort());
    const sample: Record<string, Record<string, unknown>> = {
      'network.blockSource': { targets: ['203.0.113.7'], connector: 'fw' },
      'network.unblockSource': { targets: ['203.0.113.7'], connector: 'fw' },
      'credentials.rotateApiKey': { keyId: 'k' },
      'sessions.revoke': { all: true },
      'accounts.suspend': { account: 'a' },
      'accounts.reinstate': { account: 'a' },
      'endpoint.disable': { endpoint: 'e' },
      'endpoint.enable': { endpoint: 'e' },
      'circuitBreaker.open': { breaker: 'b' },
      'circuitBreaker.close': { breaker: 'b' },
    };
    for (const [action, inverse] of Object.entries(inverses)) {
      const params = sample[action]!;
      const undo = compensationFor(action as ActionName, params) as
        { action: string; with: Record<string, unknown> } | undefined;
      expect(undo?.action, action).toBe(inverse);
      // The undo goes through the same connector the step named, with the same subject.
      if (undo) expect(undo.with).toEqual(ACTION_PARAMS[action as ActionName].parse(params));
      expect(ACTIONS[action as ActionName].destructive, action).toBe(true);
    }
  });
});

describe('connector selection, secrets and auth', () => {
  it('uses the connector a step names over the connectorFor mapping', async () => {
    const file = configFile();
    (file.connectors as Record<string, unknown>)['edge-waf'] = {
      url: `${peer.url}/v1/firewall/blocks`,
      headers: { Authorization: `Bearer ${peer.token}` },
      body: { targets: '${params.targets}' },
    };
    const output = await run(
      'network.blockSource',
      input('network.blockSource', 'block', { targets: '203.0.113.9', connector: 'edge-waf' }),
      { engine: config(file) },
    );
    expect(output).toMatchObject({ connector: 'edge-waf' });
    expect(peer.requests[0]?.body).toEqual({ targets: ['203.0.113.9'] });
  });

  it('refuses clearly when no connector is mapped or the named one does not exist', async () => {
    const engine = config({ dataDir: 'data', connectors: { only: { url: `${peer.url}/v1/x` } } });
    const unmapped = await failure(
      run('accounts.suspend', input('accounts.suspend', 'suspend', { account: 'user-4711' }), { engine }),
    );
    expect((unmapped as ApplicationFailure).type).toBe('ActionNotConfiguredError');
    expect(unmapped.message).toBe(
      'accounts.suspend (step suspend): expected a connector, found none: set connectorFor."accounts.suspend" in incident-engine.yaml or give the step a connector parameter (configured connectors: only)',
    );

    const unknown = await failure(
      run('accounts.suspend', input('accounts.suspend', 'suspend', { account: 'user-4711', connector: 'okta' }), {
        engine,
      }),
    );
    expect(unknown.message).toBe(
      'accounts.suspend (step suspend): connector "okta" is not configured in incident-engine.yaml (configured connectors: only)',
    );
    expect(peer.requests).toHaveLength(0);
  });

  it('refuses clearly when a fromEnv header names a variable that is not set, sending nothing', async () => {
    delete process.env[TOKEN_ENV];
    const error = await failure(
      run('network.blockSource', input('network.blockSource', 'block', { targets: '203.0.113.7' })),
    );
    expect((error as ApplicationFailure).type).toBe('MissingSecretError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain(
      `connectors.firewall-block.headers.Authorization: expected environment variable ${TOKEN_ENV} to hold the value, but it is not set`,
    );
    expect(peer.requests).toHaveLength(0);
  });

  it('reports a rejected token as a non-retryable HttpAuthError naming the connector headers, never the token', async () => {
    process.env[TOKEN_ENV] = 'expired-token-abc';
    const error = await failure(
      run('network.blockSource', input('network.blockSource', 'block', { targets: '203.0.113.7' })),
    );
    expect((error as ApplicationFailure).type).toBe('HttpAuthError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain('received 401 Unauthorized');
    expect(error.message).toContain(
      'check the credentials in connectors.firewall-block.headers in incident-engine.yaml; not retried',
    );
    expect(error.message).not.toContain('expired-token-abc');
    expect(peer.effects).toHaveLength(0);
  });
});

describe('templates', () => {
  const context = {
    action: 'network.blockSource',
    params: { targets: ['203.0.113.7'], reason: '${idempotencyKey} and ${process.env.HOME}' },
    incident: { id: INCIDENT, phase: 'contain' },
    step: { id: 'block' },
    idempotencyKey: `${INCIDENT}/block`,
  };

  it('substitutes values by path lookup only: a value that looks like a placeholder is never expanded again', () => {
    expect(
      renderConnectorBody(
        { why: 'reason: ${params.reason}', key: '${idempotencyKey}', n: 3, ok: true },
        context,
        'connectors.t.body',
      ),
    ).toEqual({
      why: 'reason: ${idempotencyKey} and ${process.env.HOME}',
      key: `${INCIDENT}/block`,
      n: 3,
      ok: true,
    });
  });

  it('names the placeholder and the parameters given when text needs a value that is absent', () => {
    expect(() => renderConnectorBody({ text: 'user ${params.user}' }, context, 'connectors.t.body')).toThrow(
      'connectors.t.body.text: placeholder "${params.user}" has no value for network.blockSource (step block; parameters given: targets, reason)',
    );
    expect(() => renderConnectorBody({ list: ['${params.user}'] }, context, 'connectors.t.body')).toThrow(
      'placeholder "${params.user}" has no value',
    );
  });
});

describe('configuration', () => {
  const parseError = (file: Record<string, unknown>): string => {
    const parsed = EngineConfigFile.safeParse(file);
    if (parsed.success) throw new Error('expected the config to be refused');
    return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };

  it('refuses placeholders outside params, incident.id, incident.phase, step.id, action and idempotencyKey', () => {
    expect(
      parseError({
        connectors: { fw: { url: 'https://fw.example/${process.env.HOME}', body: { x: '${constructor}' } } },
      }),
    ).toBe(
      [
        'connectors.fw.url: placeholder "${process.env.HOME}" cannot resolve; expected params.<field> or one of incident.id, incident.phase, step.id, action, idempotencyKey',
        'connectors.fw.body.x: placeholder "${constructor}" cannot resolve; expected params.<field> or one of incident.id, incident.phase, step.id, action, idempotencyKey',
      ].join('\n'),
    );
  });

  it('refuses malformed connectors and header sources with the field named', () => {
    expect(parseError({ connectors: { fw: { url: 'ftp://fw.example/x' } } })).toBe(
      'connectors.fw.url: expected an http(s) URL, received "ftp://fw.example/x"',
    );
    expect(parseError({ connectors: { fw: { url: 'https://fw.example', method: 'BREW' } } })).toContain(
      'connectors.fw.method: expected one of GET, POST, PUT, PATCH, DELETE',
    );
    expect(
      parseError({
        connectors: { fw: { url: 'https://fw.example', headers: { Authorization: { fromEnv: 'not a name' } } } },
      }),
    ).toContain('expected an environment variable name, like FIREWALL_TOKEN');
  });

  it('refuses connectorFor entries that name an unknown action or an unconfigured connector', () => {
    const base = { connectors: { fw: { url: 'https://fw.example/blocks' } } };
    expect(() =>
      buildConfig(EngineConfigFile.parse({ ...base, connectorFor: { 'network.blockSource': 'firewall' } }), dir),
    ).toThrow('connectorFor.network.blockSource names connector "firewall", which is not configured (have: fw)');
    expect(() =>
      buildConfig(EngineConfigFile.parse({ ...base, connectorFor: { 'network.block': 'fw' } }), dir),
    ).toThrow(
      'connectorFor names action "network.block", which does not use a connector (expected one of: network.blockSource, ',
    );
  });

  it('keeps a config without the new sections working, with empty defaults', () => {
    const engine = buildConfig(EngineConfigFile.parse({}), dir);
    expect(engine.connectors).toEqual({});
    expect(engine.connectorFor).toEqual({});
    expect(engine.http).toEqual({ allowHosts: [] });
    expect(engine.emergencyApi).toBeUndefined();
    expect(engine.taskQueue).toBe('incidents');
    expect(engine.channels.default).toEqual({ type: 'file', path: path.join(dir, '.data', 'notifications.jsonl') });
  });
});
