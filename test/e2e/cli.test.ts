// The operator CLI as operators run it (`node bin/incident-engine.mjs ...`, a separate process) against a real dev
// server and worker: open, show, ack, refusals with the workflow's reason, unknown incidents, an unreachable server
// named by address, an envconfig profile, --json, and `watch` following the timeline until the incident closes.
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TASK_QUEUE } from '../../src/config';
import type { DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/temporal/ports';
import { toolchainPaths } from '../../src/temporal/toolchain';
import { bundleWorkflows, createWorker } from '../../src/worker';
import { startTestCodecServer, testCodecEnv, testDataConverter } from '../helpers/codec';
import { makeEngineConfig, tempDir } from '../helpers/incident-fixtures';
import { startDevServerForTest } from '../helpers/temporal-env';

const BIN = path.resolve(import.meta.dirname, '../../bin/incident-engine.mjs');
const run = promisify(execFile);

let server: DevServer;
let worker: Worker;
let running: Promise<void>;
let connection: NativeConnection;
let codecServer: Awaited<ReturnType<typeof startTestCodecServer>>;
// Every CLI run reads and writes history with the test stack's codec keys, straight to Temporal (cli-api.test.ts
// covers the CLI over the HTTP API).
Object.assign(process.env, testCodecEnv);
delete process.env.INCIDENT_API_URL;

/** Runs the CLI; resolves with exit code, stdout and stderr whatever the exit code. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [BIN, '--address', server.address, '--by', 'alice', ...args],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: '', TEMPORAL_PROFILE: '' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  const root = tempDir('cli-e2e');
  const [started, bundle] = await Promise.all([startDevServerForTest(path.join(root, 'temporal')), bundleWorkflows()]);
  server = started;
  // The CLI reads no incident-engine.yaml here, so it uses the default task queue: the worker must poll it.
  const config = makeEngineConfig(undefined, DEFAULT_TASK_QUEUE);
  connection = await NativeConnection.connect({ address: server.address });
  worker = await createWorker({
    connection,
    namespace: 'default',
    config,
    workflowBundle: bundle,
    dataConverter: testDataConverter,
  });
  running = worker.run();
  codecServer = await startTestCodecServer();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await server?.stop();
  await codecServer?.close();
});

describe('incident-engine CLI', () => {
  it('opens, shows, acknowledges, refuses with the reason, follows the timeline and closes', async () => {
    const opened = await cli(
      'open',
      '--runbook',
      'security-incident',
      '--title',
      'Admin login from unknown address',
      '--event-type',
      'unauthorized_access',
    );
    expect(opened.stderr).toBe('');
    const id = /^opened (INC-\d{4}-\d{3})$/m.exec(opened.stdout)?.[1];
    expect(id, opened.stdout).toBeDefined();

    const shown = await cli('show', id!);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('severity    P1 (High)');
    expect(shown.stdout).toMatch(/classified P1 \(High\) \(assessment table\)/);

    expect((await cli('ack', id!)).code).toBe(0);
    const twice = await cli('ack', id!);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(
      new RegExp(`^error: acknowledge refused for ${id}: .*already acknowledged at level 0 by alice`),
    );

    const listed = await cli('--json', 'list');
    expect((JSON.parse(listed.stdout) as { incidentId: string }[]).map((i) => i.incidentId)).toContain(id);

    // watch follows the timeline live and exits by itself once the incident is closed.
    const watch = spawn(process.execPath, [BIN, '--address', server.address, 'watch', id!, '--interval', '300']);
    let watched = '';
    watch.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => watch.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await cli('false-positive', id!, '--reason', 'scanner test traffic')).code).toBe(0);
    expect(await exited).toBe(0);
    expect(watched).toContain('acknowledged');
    expect(watched).toMatch(/closed/);
    // Each event printed once.
    expect(watched.split('\n').filter((line) => line.includes('opened by')).length).toBe(1);

    const after = await cli('ack', id!);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/closed|false positive/);
  }, 120_000);

  it('names an unknown incident, an unknown runbook and an unreachable server', async () => {
    const unknown = await cli('show', 'INC-2026-999');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'error: no incident INC-2026-999']);

    const runbook = await cli('open', '--runbook', 'nope', '--title', 'x');
    expect(runbook.code).toBe(1);
    expect(runbook.stderr).toMatch(/^error: no runbook "nope" in .*; known runbooks: .*security-incident/);

    const port = await freePort();
    const { code, stderr } = await run(process.execPath, [BIN, '--address', `127.0.0.1:${port}`, 'list'], {
      env: { ...process.env, TEMPORAL_ADDRESS: '' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot reach Temporal at 127.0.0.1:${port}`);
  }, 60_000);

  it('connects through a Temporal envconfig profile', async () => {
    const file = path.join(tempDir('envconfig'), 'temporal.toml');
    writeFileSync(file, `[profile.drills]\naddress = "${server.address}"\nnamespace = "default"\n`);
    const { stdout } = await run(
      process.execPath,
      [BIN, '--config-file', file, '--profile', 'drills', '--json', 'list'],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: '' },
      },
    );
    expect(Array.isArray(JSON.parse(stdout))).toBe(true);
  }, 60_000);

  it('is steerable by hand with the temporal CLI: query, update with a validator refusal, signal', async () => {
    const opened = await cli(
      'open',
      '--runbook',
      'security-incident',
      '--title',
      'steered by hand',
      '--severity',
      'P2',
    );
    const id = /^opened (INC-\d{4}-\d{3})$/m.exec(opened.stdout)![1]!;
    const temporal = (...args: string[]) =>
      run(toolchainPaths().temporalCli, [
        ...args,
        '--address',
        server.address,
        '--workflow-id',
        id,
        '--codec-endpoint',
        codecServer.url,
      ]).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );

    const status = await temporal('workflow', 'query', '--name', 'status', '--output', 'json');
    expect(status.code, status.out).toBe(0);
    expect(status.out).toContain('"severity": "P2"');

    const ack = await temporal('workflow', 'update', 'execute', '--name', 'acknowledge', '--input', '{"by":"bob"}');
    expect(ack.code, ack.out).toBe(0);
    const again = await temporal('workflow', 'update', 'execute', '--name', 'acknowledge', '--input', '{"by":"carol"}');
    expect(again.code).not.toBe(0);
    expect(again.out).toContain('already acknowledged at level 0 by bob');

    const alert = '{"source":"manual","status":"firing","summary":"second login burst","labels":{}}';
    expect((await temporal('workflow', 'signal', '--name', 'alert', '--input', alert)).code).toBe(0);
    const shown = await cli('show', id);
    expect(shown.stdout).toContain('second login burst');
    expect(shown.stdout).toMatch(/acknowledged .*\[bob\]/);
  }, 60_000);
});
