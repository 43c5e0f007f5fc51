// Emergency API actions (app.*) through createActivities, inside a MockActivityEnvironment, against the reference
// server (test/helpers/emergency-api-server.ts) over real loopback sockets: effects applied once per key, retries,
// auth, integrity failures, compensation planning. Must never mock fetch or the network.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Activities, createActivities } from '../../activities';
import { readDrillCalls } from '../../activities/drill-recorder';
import { HttpUnavailableError } from '../../activities/errors';
import { NonRetryableActionError } from '../../activities/errors';
import { buildConfig, EngineConfigFile, type EngineConfig } from '../../src/config';
import { ACTION_PARAMS, ACTIONS, type ActionInput, type ActionName } from '../../domain/actions';
import { type EmergencyApiServer, startEmergencyApiServer } from '../helpers/emergency-api-server';

const INCIDENT = 'INC-2026-042';
const TOKEN_ENV = 'EMERGENCY_API_TEST_TOKEN';

let server: EmergencyApiServer;
let dir: string;

beforeEach(async () => {
  server = await startEmergencyApiServer({ token: 's3cret-emergency-token' });
  dir = await mkdtemp(path.join(tmpdir(), 'emergency-api-test-'));
  process.env[TOKEN_ENV] = server.token;
});

afterEach(async () => {
  delete process.env[TOKEN_ENV];
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function config(overrides: Record<string, unknown> = {}): EngineConfig {
  return buildConfig(
    EngineConfigFile.parse({
      dataDir: 'data',
      emergencyApi: {
        baseUrl: server.url,
        headers: { Authorization: { fromEnv: TOKEN_ENV, prefix: 'Bearer ' } },
        timeoutMs: 2_000,
      },
      ...overrides,
    }),
    dir,
  );
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

/** Runs an action activity the way a worker would: in an activity context with the given attempt number. */
async function run(
  action: ActionName & keyof Activities,
  stepInput: ActionInput,
  options: { attempt?: number; engine?: EngineConfig } = {},
): Promise<unknown> {
  const activities = createActivities({ config: options.engine ?? config() });
  // Failures are what these tests assert; the SDK's per-failure warnings would only bury the report.
  const env = new MockActivityEnvironment({ attempt: options.attempt ?? 1 }, { logger: new DefaultLogger('ERROR') });
  return env.run(activities[action], stepInput);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection with an Error, received ${String(error)}`);
  return error;
}

/** The compensation the workflow would plan for a completed step, from the spec's `compensate`. */
function compensationFor(action: ActionName, params: Record<string, unknown>, output: unknown) {
  const spec = ACTIONS[action] as { compensate?: (params: unknown, output: unknown) => unknown };
  return spec.compensate?.(ACTION_PARAMS[action].parse(params), output);
}

describe('app.safeMode', () => {
  it('sets the level once, with the auth header and Idempotency-Key <incident>/<step>, and reports the previous level', async () => {
    const output = await run('app.safeMode', input('app.safeMode', 'safe-mode', { level: 'Emergency' }));

    expect(output).toEqual({ level: 'Emergency', previous: 'Disabled', status: 200, attempt: 1 });
    expect(server.state.safeMode).toBe('Emergency');
    expect(server.effects).toEqual([
      { key: `${INCIDENT}/safe-mode`, change: 'safeMode', detail: { from: 'Disabled', to: 'Emergency' } },
    ]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/emergency/safe-mode/emergency',
      idempotencyKey: `${INCIDENT}/safe-mode`,
      authorized: true,
      status: 200,
    });
  });

  it('applies nothing when the same step runs again, and still reports the level from before the step', async () => {
    const step = input('app.safeMode', 'safe-mode', { level: 'lockdown' });
    const first = await run('app.safeMode', step);
    const again = await run('app.safeMode', step, { attempt: 2 });

    expect(first).toMatchObject({ level: 'Lockdown', previous: 'Disabled' });
    expect(again).toMatchObject({ level: 'Lockdown', previous: 'Disabled', attempt: 2 });
    expect(server.effects).toHaveLength(1);
    expect(server.requests.map((r) => r.replayed)).toEqual([false, true]);
  });

  it('plans its undo as app.safeMode back to the previous level, which restores it under its own key', async () => {
    await run('app.safeMode', input('app.safeMode', 'restrict', { level: 'Restricted' }));
    const params = { level: 'Emergency' };
    const output = await run('app.safeMode', input('app.safeMode', 'escalate', params));

    const undo = compensationFor('app.safeMode', params, output);
    expect(undo).toEqual({ action: 'app.safeMode', with: { level: 'Restricted' } });

    const { action, with: undoParams } = undo as {
      action: ActionName & keyof Activities;
      with: Record<string, unknown>;
    };
    await run(action, input(action, 'escalate', undoParams, { idempotencyKey: `${INCIDENT}/escalate/undo` }));
    expect(server.state.safeMode).toBe('Restricted');
    expect(server.effects.map((e) => [e.key, e.detail.to])).toEqual([
      [`${INCIDENT}/restrict`, 'Restricted'],
      [`${INCIDENT}/escalate`, 'Emergency'],
      [`${INCIDENT}/escalate/undo`, 'Restricted'],
    ]);
  });

  it('plans no undo when the level did not change or the previous level is unknown', () => {
    expect(
      compensationFor('app.safeMode', { level: 'Emergency' }, { level: 'Emergency', previous: 'Emergency' }),
    ).toBeUndefined();
    expect(
      compensationFor('app.safeMode', { level: 'Emergency' }, { level: 'Emergency', previous: null }),
    ).toBeUndefined();
    expect(compensationFor('app.safeMode', { level: 'Emergency' }, undefined)).toBeUndefined();
  });

  it('refuses an unknown level naming the field, before sending anything', async () => {
    const error = await failure(run('app.safeMode', input('app.safeMode', 'safe-mode', { level: 'Panic' })));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain(
      'level: expected a safe-mode level: one of Disabled, Restricted, Paranoid, Emergency, Lockdown, received "Panic"',
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe('retries', () => {
  it('reports a 503 as retryable, then applies the change once on the next attempt', async () => {
    server.failNext(1, { kind: 'status', status: 503, body: 'maintenance', retryAfterSeconds: 2 });
    const step = input('app.killSwitch', 'kill-switch', { enabled: true });

    const error = await failure(run('app.killSwitch', step));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error.message).toContain('expected a 2xx status, received 503');
    expect(error.message).toContain('(retryable)');
    expect((error as HttpUnavailableError).retryAfterMs).toBe(2_000);
    expect(server.effects).toHaveLength(0);

    await expect(run('app.killSwitch', step, { attempt: 2 })).resolves.toEqual({
      enabled: true,
      previous: false,
      status: 200,
      attempt: 2,
    });
    expect(server.state.killSwitch).toBe(true);
    expect(server.effects).toEqual([
      { key: `${INCIDENT}/kill-switch`, change: 'killSwitch', detail: { from: false, to: true } },
    ]);
    expect(server.requests.map((r) => r.status)).toEqual([503, 200]);
  });

  it('times out on a peer that hangs before applying, then applies once on retry', async () => {
    server.failNext(1, { kind: 'hang' });
    const engine = config({
      emergencyApi: { baseUrl: server.url, headers: { Authorization: `Bearer ${server.token}` }, timeoutMs: 300 },
    });
    const step = input('app.quarantine', 'quarantine', { path: '/suspicious/file.exe' });

    const error = await failure(run('app.quarantine', step, { engine }));
    expect(error).toBeInstanceOf(HttpUnavailableError);
    expect(error.message).toContain('no complete response within 300 ms (timeout)');
    expect(server.effects).toHaveLength(0);

    await run('app.quarantine', step, { engine, attempt: 2 });
    expect([...server.state.quarantined]).toEqual(['/suspicious/file.exe']);
    expect(server.effects).toHaveLength(1);
  });

  it('applies once when the peer applied the change but the answer was lost: the retry gets the first answer', async () => {
    server.failNext(1, { kind: 'apply-then-hang' });
    const engine = config({
      emergencyApi: { baseUrl: server.url, headers: { Authorization: `Bearer ${server.token}` }, timeoutMs: 300 },
    });
    const step = input('app.safeMode', 'safe-mode', { level: 'Paranoid' });

    await expect(run('app.safeMode', step, { engine })).rejects.toBeInstanceOf(HttpUnavailableError);
    expect(server.state.safeMode).toBe('Paranoid');

    // Without the key the retry would report "previous: Paranoid" and the undo would restore the wrong level.
    const output = await run('app.safeMode', step, { engine, attempt: 2 });
    expect(output).toMatchObject({ level: 'Paranoid', previous: 'Disabled' });
    expect(server.effects).toHaveLength(1);
    expect(server.requests.map((r) => [r.status, r.replayed])).toEqual([
      ['hung', false],
      [200, true],
    ]);
  });
});

describe('authentication', () => {
  it('is a non-retryable HttpAuthError naming where the credentials are configured, never the token', async () => {
    process.env[TOKEN_ENV] = 'wrong-token-value';
    const error = await failure(run('app.killSwitch', input('app.killSwitch', 'kill-switch', { enabled: true })));

    expect(error).toBeInstanceOf(ApplicationFailure);
    const failed = error as ApplicationFailure;
    expect(failed.type).toBe('HttpAuthError');
    expect(failed.nonRetryable).toBe(true);
    expect(failed.cause).toBeInstanceOf(NonRetryableActionError);
    expect(error.message).toContain(
      `app.killSwitch (step kill-switch): POST ${server.url}/api/emergency/kill-switch/enable`,
    );
    expect(error.message).toContain('received 401 Unauthorized');
    expect(error.message).toContain(
      'authentication failed (missing or invalid credentials): check the credentials in emergencyApi.headers',
    );
    expect(error.message).not.toContain('wrong-token-value');
    expect(server.state.killSwitch).toBe(false);
    expect(server.effects).toHaveLength(0);
  });

  it('refuses clearly when the header names an environment variable that is not set', async () => {
    delete process.env[TOKEN_ENV];
    const error = await failure(run('app.killSwitch', input('app.killSwitch', 'kill-switch', { enabled: true })));

    expect((error as ApplicationFailure).type).toBe('MissingSecretError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toBe(
      `emergencyApi.headers.Authorization: expected environment variable ${TOKEN_ENV} to hold the value, but it is not set in the worker's environment; set it where the worker runs (the value stays out of incident-engine.yaml)`,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses clearly when emergencyApi is not configured', async () => {
    const engine = buildConfig(EngineConfigFile.parse({}), dir);
    const error = await failure(
      run('app.safeMode', input('app.safeMode', 'safe-mode', { level: 'Emergency' }), { engine }),
    );
    expect((error as ApplicationFailure).type).toBe('ActionNotConfiguredError');
    expect(error.message).toContain('expected emergencyApi { baseUrl, headers } in incident-engine.yaml, found none');
  });
});

describe('app.killSwitch', () => {
  it('plans the opposite as its undo, unless the switch was already in that state', async () => {
    const output = await run('app.killSwitch', input('app.killSwitch', 'kill', { enabled: true }));
    expect(compensationFor('app.killSwitch', { enabled: true }, output)).toEqual({
      action: 'app.killSwitch',
      with: { enabled: false },
    });
    expect(compensationFor('app.killSwitch', { enabled: false }, { previous: true })).toEqual({
      action: 'app.killSwitch',
      with: { enabled: true },
    });

    const repeat = await run('app.killSwitch', input('app.killSwitch', 'kill-again', { enabled: true }));
    expect(repeat).toMatchObject({ previous: true });
    expect(compensationFor('app.killSwitch', { enabled: true }, repeat)).toBeUndefined();
  });

  it('refuses a non-boolean, naming the field', async () => {
    const error = await failure(run('app.killSwitch', input('app.killSwitch', 'kill', { enabled: 'yes' })));
    expect((error as ApplicationFailure).type).toBe('InvalidActionInputError');
    expect(error.message).toContain('enabled: expected enabled: true or false');
  });
});

describe('app.quarantine and app.releaseQuarantine', () => {
  it('quarantines once and plans app.releaseQuarantine as its undo, which releases the file', async () => {
    const params = { path: '/uploads/invoice.pdf.exe' };
    const output = await run('app.quarantine', input('app.quarantine', 'quarantine', params));
    expect(output).toMatchObject({ path: params.path, alreadyQuarantined: false });
    expect(server.requests[0]?.body).toEqual({ path: params.path });
    expect(server.state.quarantined.has(params.path)).toBe(true);

    const undo = compensationFor('app.quarantine', params, output);
    expect(undo).toEqual({ action: 'app.releaseQuarantine', with: params });
    const released = await run(
      'app.releaseQuarantine',
      input('app.releaseQuarantine', 'quarantine', params, { idempotencyKey: `${INCIDENT}/quarantine/undo` }),
    );
    expect(released).toMatchObject({ released: true });
    expect(server.state.quarantined.size).toBe(0);
    expect(server.effects.map((e) => e.change)).toEqual(['quarantine', 'releaseQuarantine']);
  });

  it('plans no release for a file that was already quarantined before the step', async () => {
    server.state.quarantined.add('/tmp/dropper.bin');
    const output = await run('app.quarantine', input('app.quarantine', 'quarantine', { path: '/tmp/dropper.bin' }));
    expect(output).toMatchObject({ alreadyQuarantined: true });
    expect(compensationFor('app.quarantine', { path: '/tmp/dropper.bin' }, output)).toBeUndefined();
  });

  it('refuses an empty path naming the field', async () => {
    const error = await failure(run('app.quarantine', input('app.quarantine', 'quarantine', { path: '' })));
    expect(error.message).toContain('path: expected the path of the file to quarantine');
    expect(server.requests).toHaveLength(0);
  });
});

describe('app.restoreBackup', () => {
  it('restores "latest" by default, once, and has no undo', async () => {
    const step = input('app.restoreBackup', 'restore', {});
    const output = await run('app.restoreBackup', step);
    await run('app.restoreBackup', step, { attempt: 2 });

    expect(output).toMatchObject({ backupId: 'latest', restoreId: 'restore-1', status: 202 });
    expect(server.requests[0]?.body).toEqual({ backup_id: 'latest' });
    expect(server.state.restores).toEqual([{ backupId: 'latest', restoreId: 'restore-1' }]);
    expect(server.effects).toHaveLength(1);
    expect(compensationFor('app.restoreBackup', {}, output)).toBeUndefined();
  });

  it('fails without retrying when the backup does not exist', async () => {
    const error = await failure(run('app.restoreBackup', input('app.restoreBackup', 'restore', { backupId: 'nope' })));
    expect((error as ApplicationFailure).type).toBe('HttpRejectedError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toContain('received 404 Not Found');
    expect(error.message).toMatch(/body: .*no backup .*nope.*have latest/);
  });
});

describe('app.validateIntegrity', () => {
  it('completes when the application reports no violations', async () => {
    const output = await run('app.validateIntegrity', input('app.validateIntegrity', 'validate', {}));
    expect(output).toEqual({ valid: true, violations: 0, status: 200, attempt: 1 });
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/integrity/validate',
      idempotencyKey: `${INCIDENT}/validate`,
    });
  });

  it('fails with a non-retryable IntegrityViolationError listing the violations', async () => {
    server.setIntegrity({
      valid: false,
      violations: ['config/app.yaml: hash mismatch', { path: 'bin/app', reason: 'unexpected signature' }],
    });
    const error = await failure(run('app.validateIntegrity', input('app.validateIntegrity', 'validate', {})));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('IntegrityViolationError');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toBe(
      'app.validateIntegrity (step validate): expected no integrity violations, received 2: config/app.yaml: hash mismatch; {"path":"bin/app","reason":"unexpected signature"}',
    );
  });
});

describe('registry and drills', () => {
  it('marks safe mode, kill switch, quarantine and restore as destructive, and the integrity check as not', () => {
    for (const name of [
      'app.safeMode',
      'app.killSwitch',
      'app.quarantine',
      'app.releaseQuarantine',
      'app.restoreBackup',
    ] as const) {
      expect(ACTIONS[name].destructive, name).toBe(true);
    }
    expect((ACTIONS['app.validateIntegrity'] as { destructive?: boolean }).destructive).toBeUndefined();
  });

  it('records instead of calling the application in a drill', async () => {
    const engine = config();
    const output = await run('app.killSwitch', input('app.killSwitch', 'kill', { enabled: true }, { drill: true }), {
      engine,
    });
    expect(output).toEqual({ recorded: true });
    expect(server.requests).toHaveLength(0);
    expect(await readDrillCalls(engine.dataDir, INCIDENT)).toEqual([
      { activity: 'app.killSwitch', idempotencyKey: `${INCIDENT}/kill`, params: { enabled: true } },
    ]);
  });
});
