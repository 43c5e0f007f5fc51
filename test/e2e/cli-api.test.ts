// The operator CLI through the HTTP API (`--api-url` and `--api-key`, a separate process) against a real API, dev
// server and worker: open, list, show, acknowledge and watch as the key's name within its role, with no breakGlass on
// the timeline; an operator key refused resolving a P0 (the API's 403 in one line, exit 1); a URL without a key (exit
// 2); an API that does not answer, named; and the same update straight to Temporal, recorded as break-glass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/temporal/ports';
import { type ApiEnv, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';
import { type CliResult, runCli } from '../helpers/run-cli';

let env: ApiEnv;

beforeAll(async () => {
  env = await startApiEnv({ taskQueue: 'cli-api', runbooks: { plain: plainRunbook('plain') } });
}, 180_000);

afterAll(async () => {
  await env?.close();
});

/** The environment without any API target, Temporal address or operator name from the machine running the tests. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of [
    'INCIDENT_API_URL',
    'INCIDENT_API_KEY',
    'INCIDENT_OPERATOR',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_PROFILE',
  ])
    delete base[name];
  return { ...base, ...extra };
}

/** The CLI over the API with a key; the Temporal address is a closed port, so nothing can go around the API. */
async function overApi(key: string, ...args: string[]): Promise<CliResult> {
  const closed = await freePort();
  return runCli(['--address', `127.0.0.1:${closed}`, '--api-url', env.url, '--api-key', key, ...args], cleanEnv());
}

async function openOverApi(key: string, title: string, ...more: string[]): Promise<string> {
  const opened = await overApi(key, 'open', '--runbook', 'plain', '--title', title, ...more);
  expect(opened.code, opened.stderr).toBe(0);
  const id = /^opened (INC-\d{4}-\d{3,})$/m.exec(opened.stdout)?.[1];
  expect(id, opened.stdout).toBeDefined();
  return id!;
}

describe('incident-engine CLI over the HTTP API', () => {
  it("opens, lists, shows, acknowledges and watches as the key's name, without breakGlass", async () => {
    const operator = env.keys.operator;
    const id = await openOverApi(operator.key, 'Admin login over the API');
    expect((await env.incidents.status(id)).title).toBe('Admin login over the API');

    const listed = await overApi(operator.key, '--json', 'list', '--limit', '5');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { incidentId: string; startTime: string }[];
    expect(rows.map((r) => r.incidentId)).toContain(id);

    const shown = await overApi(env.keys.viewer.key, 'show', id);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`${id}  Admin login over the API`);
    expect(shown.stdout).toMatch(/timeline:\n.*opened/);

    // Over the API the key's name acts: --by is ignored, and the CLI says so.
    const acked = await overApi(operator.key, '--by', 'mallory', 'ack', id);
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stderr.trim()).toBe("warning: --by mallory is ignored over the API: the key's name acts");
    expect(acked.stdout).toContain(`acknowledged ${new Date().getUTCFullYear()}`);
    const event = (await env.incidents.timeline(id)).find((e) => e.type === 'acknowledged');
    expect(event).toMatchObject({ by: operator.name, apiRole: 'operator' });
    expect(event).not.toHaveProperty('breakGlass');

    // The incident's refusal comes back as the API's 409, in one line.
    const twice = await overApi(operator.key, 'ack', id);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(
      new RegExp(
        `^error: 409 refused: acknowledge refused for ${id}: .*already acknowledged at level 0 by operator-1\\n$`,
      ),
    );

    // watch follows the timeline over the API and exits once the incident is closed.
    const watching = overApi(operator.key, 'watch', id, '--interval', '300');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const closed = await overApi(operator.key, 'false-positive', id, '--reason', 'scanner test traffic');
    expect(closed.code, closed.stderr).toBe(0);
    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout.split('\n').filter((line) => line.includes('opened by')).length).toBe(1);
    expect(watched.stdout).toContain(`[${operator.name}]`);
    expect(watched.stdout).toMatch(/false positive|closed/);
  }, 120_000);

  it("refuses an operator key resolving a P0 with the API's 403, in one line (exit 1)", async () => {
    const id = await openOverApi(env.keys.operator.key, 'P0 over the API', '--severity', 'P0', '--drill');
    await waitFor(async () => {
      const s = await env.incidents.status(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);

    const refused = await overApi(env.keys.operator.key, 'resolve', id, '--summary', 'done');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^error: 403 forbidden: resolve refused for ${id}: operator-1 has API role operator, which may not resolve ${id}, a P0 incident; that needs a commander key\\n$`,
      ),
    );
    expect(await env.incidents.status(id)).toMatchObject({ status: 'active', severity: 'P0' });

    const resolved = await overApi(env.keys.commander.key, 'resolve', id, '--summary', 'done');
    expect(resolved.code, resolved.stderr).toBe(0);
    expect((await env.incidents.timeline(id)).find((e) => e.type === 'resolved')).toMatchObject({
      by: env.keys.commander.name,
      apiRole: 'commander',
    });
  }, 120_000);

  it('names a missing key (exit 2), a bad key, an unknown incident and an API that does not answer (exit 1)', async () => {
    const noKey = await runCli(['--api-url', env.url, 'show', 'INC-2026-001'], cleanEnv());
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^error: --api-url http:\/\/127\.0\.0\.1:\d+ needs an API key: give --api-key <key>/);
    const fromEnv = await runCli(['list'], cleanEnv({ INCIDENT_API_URL: env.url }));
    expect([fromEnv.code, fromEnv.stderr]).toEqual([2, expect.stringContaining('set INCIDENT_API_KEY')]);

    const badUrl = await runCli(['--api-url', 'ftp://example.org', '--api-key', 'k', 'list'], cleanEnv());
    expect([badUrl.code, badUrl.stderr.trim()]).toEqual([
      2,
      'error: --api-url: expected an http or https URL, got "ftp:"',
    ]);

    const badKey = await runCli(['list'], cleanEnv({ INCIDENT_API_URL: env.url, INCIDENT_API_KEY: 'iek_nope_nope' }));
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^error: 401 unauthorized: the API key is not valid/);

    const unknown = await overApi(env.keys.viewer.key, 'show', 'INC-2099-999');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'error: 404 not_found: no incident INC-2099-999']);

    const port = await freePort();
    const down = await runCli(['--api-url', `http://127.0.0.1:${port}`, '--api-key', 'k', 'list'], cleanEnv());
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(`error: cannot reach the incident API at http://127.0.0.1:${port} (ECONNREFUSED)`);
  }, 120_000);

  it('without an API URL goes straight to Temporal: the break-glass path, recorded as such', async () => {
    const id = await openOverApi(env.keys.operator.key, 'steered around the API');
    const direct = await runCli(['--address', env.server.address, '--by', 'alice', 'ack', id], cleanEnv());
    expect(direct.code, direct.stderr).toBe(0);
    const event = (await env.incidents.timeline(id)).find((e) => e.type === 'acknowledged');
    expect(event).toMatchObject({ by: 'alice', breakGlass: true });
    expect(event).not.toHaveProperty('apiRole');
  }, 60_000);
});
