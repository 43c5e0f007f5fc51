// The dev server launcher: starts on a SQLite file with the incident search attributes, survives a restart on the
// same file with its workflows, stops cleanly, and reports failures with the server's own output. Also the
// connection resolution that decides whether `npm start` may start a dev server at all.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCIDENT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { connectClient, resolveTemporalTarget, TemporalUnreachableError } from '../../src/temporal/connection';
import { DevServerError, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/temporal/ports';
import { createLocalEnv, startDevServerForTest } from '../helpers/temporal-env';

const INDEXED_VALUE_TYPE: Record<string, number> = { Keyword: 2, Bool: 5 };

async function withClient<T>(server: DevServer, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectClosable({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: server.namespace }));
  } finally {
    await connection.close();
  }
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${timeoutMs / 1000} s; it did not happen`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('dev server on a SQLite file', () => {
  let dataDir: string;
  let server: DevServer | undefined;
  const workflowId = `e2e-restart-${Date.now()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dev-server-test-'));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts and registers every incident search attribute', async () => {
    const started = Date.now();
    server = await startDevServerForTest(dataDir);
    console.log(`dev server ready at ${server.address} (UI ${server.uiUrl}) in ${Date.now() - started} ms`);
    expect(server.dbFile).toBe(join(dataDir, 'temporal.sqlite'));
    const attrs = await withClient(server, (client) =>
      client.connection.operatorService.listSearchAttributes({ namespace: 'default' }),
    );
    for (const [name, type] of Object.entries(INCIDENT_SEARCH_ATTRIBUTES)) {
      expect(attrs.customAttributes?.[name], name).toBe(INDEXED_VALUE_TYPE[type]);
    }
  });

  it('starts a workflow that no worker polls, carrying search attributes', async () => {
    const s = server as DevServer;
    await withClient(s, async (client) => {
      const handle = await client.workflow.start('NoWorkerPollsThisWorkflow', {
        workflowId,
        taskQueue: 'nobody-polls-this-queue',
        args: [],
        typedSearchAttributes: [
          { key: defineSearchAttributeKey('IncidentSeverity', SearchAttributeType.KEYWORD), value: 'P1' },
          { key: defineSearchAttributeKey('IsDrill', SearchAttributeType.BOOL), value: true },
        ],
      });
      expect((await handle.describe()).status.name).toBe('RUNNING');
    });
  });

  it('stops: the process exits', async () => {
    const s = server as DevServer;
    const started = Date.now();
    await s.stop();
    await s.stop(); // idempotent
    console.log(`dev server stopped in ${Date.now() - started} ms`);
    expect(s.process.exitCode !== null || s.process.signalCode !== null).toBe(true);
    server = undefined;
  });

  it('restarts on the same file: attributes already exist, the workflow is still listed and running', async () => {
    const started = Date.now();
    server = await startDevServerForTest(dataDir);
    console.log(`dev server restarted on the same file in ${Date.now() - started} ms`);
    const s = server;
    await withClient(s, async (client) => {
      expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
      const listed = await eventually(async () => {
        const ids: string[] = [];
        for await (const wf of client.workflow.list({
          query: `WorkflowId = "${workflowId}" AND IncidentSeverity = "P1" AND IsDrill = true`,
        })) {
          ids.push(wf.workflowId);
        }
        return ids.length ? ids : undefined;
      }, `${workflowId} listed by its search attributes`);
      expect(listed).toEqual([workflowId]);
      await client.workflow.getHandle(workflowId).terminate('test done');
    });
  });

  it('refuses a port that is already taken instead of probing the other server', async () => {
    const s = server as DevServer;
    const port = Number(s.address.split(':')[1]);
    const other = await mkdtemp(join(tmpdir(), 'dev-server-clash-'));
    try {
      const err = await startDevServer({ dataDir: other, port, uiPort: await freePort() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DevServerError);
      expect((err as Error).message).toMatch(
        new RegExp(`gRPC port ${port}: expected 127\\.0\\.0\\.1:${port} to be free`),
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('test servers start again on fresh ports when a port they were given is taken', async () => {
    const s = server as DevServer;
    const taken = Number(s.address.split(':')[1]);
    const other = await mkdtemp(join(tmpdir(), 'dev-server-race-'));
    const picked: number[][] = [];
    let retried: DevServer | undefined;
    try {
      // The first pair's UI port is the running server's gRPC port, as if another test took it in between.
      retried = await startDevServerForTest(other, {}, async () => {
        const pair = picked.length === 0 ? [await freePort(), taken] : [await freePort(), await freePort()];
        picked.push(pair);
        return pair;
      });
      expect(picked).toHaveLength(2);
      expect(retried.address).toBe(`127.0.0.1:${picked[1]![0]}`);
    } finally {
      await retried?.stop();
      await rm(other, { recursive: true, force: true });
    }
  });

  it('reports an early exit with the server output (a file that is not SQLite)', async () => {
    const other = await mkdtemp(join(tmpdir(), 'dev-server-exit-'));
    try {
      await writeFile(join(other, 'temporal.sqlite'), 'not a database '.repeat(100));
      const err = await startDevServer({ dataDir: other, port: await freePort(), uiPort: false }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DevServerError);
      expect((err as Error).message).toMatch(
        /exited with 1 before answering at 127\.0\.0\.1:\d+.*Output tail:\n.*file is not a database/s,
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('SDK local environment on the pinned CLI', () => {
  it('createLocalEnv registers the incident search attributes', async () => {
    const env = await createLocalEnv();
    try {
      const attrs = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const [name, type] of Object.entries(INCIDENT_SEARCH_ATTRIBUTES)) {
        expect(attrs.customAttributes?.[name], name).toBe(INDEXED_VALUE_TYPE[type]);
      }
    } finally {
      await env.teardown();
    }
  });
});

describe('connection target', () => {
  const home = { HOME: '/nonexistent-home' };

  it('defaults to the local dev server and is not explicit', () => {
    expect(resolveTemporalTarget(home)).toMatchObject({
      explicit: false,
      address: '127.0.0.1:7233',
      namespace: 'default',
    });
  });

  it('TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY are explicit', () => {
    const target = resolveTemporalTarget({
      ...home,
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_API_KEY: 'k',
    });
    expect(target).toMatchObject({ explicit: true, address: 'temporal.example:7233', namespace: 'prod' });
    expect(target.connectOptions).toMatchObject({ apiKey: 'k', tls: true });
  });

  it('a profile from TEMPORAL_CONFIG_FILE is explicit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'envconfig-'));
    try {
      const file = join(dir, 'temporal.toml');
      await writeFile(file, '[profile.staging]\naddress = "10.0.0.5:7233"\nnamespace = "incidents"\n');
      const target = resolveTemporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' });
      expect(target).toMatchObject({ explicit: true, address: '10.0.0.5:7233', namespace: 'incidents' });
      expect(() => resolveTemporalTarget({ ...home, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' })).toThrow(
        /profile "nope"/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable server is reported with the address tried', async () => {
    const port = await freePort();
    const target = resolveTemporalTarget({ ...home, TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    const err = await connectClient(target, { connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalUnreachableError);
    expect((err as Error).message).toContain(`cannot reach Temporal at 127.0.0.1:${port}`);
  });
});
