// Encrypted history against a real dev server: what Temporal stores (read without the codec, and through
// `temporal workflow show`) never contains an incident's title, while the engine, the codec endpoint (with a key, or
// the Web UI's door) and `incident export` read it in the clear.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportIncident } from '../../src/drills/export';
import { toolchainPaths } from '../../src/temporal/toolchain';
import { type ApiEnv, CODEC_UI_TOKEN, http, plainRunbook, startApiEnv } from '../helpers/api-env';
import { testCodec } from '../helpers/codec';

const run = promisify(execFile);
const TITLE = 'Exfiltration by mallory@example.com from 203.0.113.77';

let env: ApiEnv;
let incidentId: string;

beforeAll(async () => {
  env = await startApiEnv({
    taskQueue: 'encrypted-history',
    runbooks: { plain: plainRunbook('plain', { match: 'default: true' }) },
  });
  const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
    key: env.keys.operator.key,
    body: { title: TITLE, runbook: 'plain', labels: { user: 'mallory' } },
  });
  expect(opened.status, opened.text).toBeLessThan(300);
  incidentId = opened.body.incidentId;
}, 180_000);

afterAll(async () => {
  await env?.close();
});

/** Every byte string in a value, as text. */
function bytesIn(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('latin1'));
  else if (node !== null && typeof node === 'object') for (const v of Object.values(node)) bytesIn(v, out);
  return out;
}

/** Proto JSON (as `temporal workflow show -o json` prints) with every base64 value decoded alongside. */
function withBase64Decoded(json: string): string {
  const decoded = [...json.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) =>
    Buffer.from(m[1]!, 'base64').toString('latin1'),
  );
  return `${json}\n${decoded.join('\n')}`;
}

/** Every payload byte of a history as text, as a client without the codec sees it. */
async function rawHistoryText(): Promise<string> {
  const connection = await connectClosable({ address: env.server.address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(incidentId).fetchHistory();
    return bytesIn(history).join('\n');
  } finally {
    await connection.close();
  }
}

describe('encrypted workflow history', () => {
  it('the engine reads the title; Temporal stores only ciphertext', async () => {
    const view = await http<{ title: string }>(`${env.url}/incidents/${incidentId}`, { key: env.keys.viewer.key });
    expect(view.body.title).toBe(TITLE);
    const raw = await rawHistoryText();
    expect(raw).toContain('binary/encrypted');
    expect(raw).toContain('test-new'); // the key id that sealed it
    expect(raw).not.toContain('mallory');
    expect(raw).not.toContain('203.0.113.77');
  });

  it('`temporal workflow show` shows ciphertext, and the title through the codec endpoint with an operator key', async () => {
    const cli = toolchainPaths().temporalCli;
    const base = ['workflow', 'show', '--address', env.server.address, '--workflow-id', incidentId, '-o', 'json'];
    const plain = await run(cli, base, { maxBuffer: 64 << 20 });
    expect(withBase64Decoded(plain.stdout)).toContain('binary/encrypted');
    expect(withBase64Decoded(plain.stdout)).not.toContain('mallory');
    const decoded = await run(
      cli,
      [...base, '--codec-endpoint', `${env.url}/codec`, '--codec-auth', `Bearer ${env.keys.operator.key}`],
      { maxBuffer: 64 << 20 },
    );
    expect(withBase64Decoded(decoded.stdout)).toContain(TITLE);
  }, 60_000);

  it('the codec endpoint needs an operator or commander key; the Web UI door needs its token and names its origin', async () => {
    const [sealed] = await testCodec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"secret"') },
    ]);
    const wire = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(sealed!.data!).toString('base64'),
        },
      ],
    };
    expect((await http(`${env.url}/codec/decode`, { body: wire })).status).toBe(401);
    expect((await http(`${env.url}/codec/decode`, { key: env.keys.viewer.key, body: wire })).status).toBe(403);
    expect((await http(`${env.url}/codec/decode`, { key: env.keys.detector.key, body: wire })).status).toBe(403);
    const ok = await http<{ payloads: { data: string }[] }>(`${env.url}/codec/decode`, {
      key: env.keys.operator.key,
      body: wire,
    });
    expect(ok.status, ok.text).toBe(200);
    expect(Buffer.from(ok.body.payloads[0]!.data, 'base64').toString()).toBe('"secret"');

    const origin = 'http://127.0.0.1:8233';
    const wrong = await http(`${env.url}/codec/ui/not-the-token/decode`, { body: wire, headers: { origin } });
    expect(wrong.status).toBe(401);
    const preflight = await fetch(`${env.url}/codec/ui/${CODEC_UI_TOKEN}/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    const ui = await http<{ payloads: { data: string }[] }>(`${env.url}/codec/ui/${CODEC_UI_TOKEN}/decode`, {
      body: wire,
      headers: { origin, 'x-namespace': 'default' },
    });
    expect(ui.status, ui.text).toBe(200);
    expect(ui.headers.get('access-control-allow-origin')).toBe(origin);
    expect(Buffer.from(ui.body.payloads[0]!.data, 'base64').toString()).toBe('"secret"');
    const elsewhere = await http(`${env.url}/codec/ui/${CODEC_UI_TOKEN}/decode`, {
      body: wire,
      headers: { origin: 'https://evil.example' },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('`incident export` writes the history decrypted, so it replays without keys', async () => {
    const bundle = await exportIncident(env.client, incidentId);
    expect(JSON.stringify(bundle)).not.toContain('YmluYXJ5L2VuY3J5cHRlZA'); // "binary/encrypted" in base64
    const started = bundle.workflows[0]!.history.events[0] as {
      workflowExecutionStartedEventAttributes: { input: { payloads: { data: string }[] } };
    };
    const input = started.workflowExecutionStartedEventAttributes.input.payloads[0]!.data;
    expect(Buffer.from(input, 'base64').toString()).toContain(TITLE);
  });
});
