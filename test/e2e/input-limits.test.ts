// Bounded input over real HTTP against a real dev server: oversized titles, too many or too long labels, long lists
// and whole bodies are refused before anything reaches Temporal (413 for the body, 422 naming the field and its
// limit), and a normal alert opens afterwards. The workflows enforce the same limits again: an oversized update,
// open or alert signal sent straight to Temporal is refused or ignored without failing a workflow task, and the
// timeline is read in pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_LABEL_VALUE_CHARS,
  MAX_LABELS,
  MAX_LIST_ITEMS,
  MAX_PAYLOAD_BYTES,
  MAX_TEXT_CHARS,
  MAX_TITLE_CHARS,
} from '../../domain/limits';
import { checkInputLimits } from '../../src/api/limits';
import { UpdateRefusedError } from '../../src/client';
import { type OpenIncidentInput, REGISTRY_WORKFLOW_ID, openIncidentUpdate } from '../../workflows/definitions';
import { type ApiEnv, http, isCleanError, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

let env: ApiEnv;

beforeAll(async () => {
  env = await startApiEnv({
    taskQueue: 'input-limits',
    runbooks: { plain: plainRunbook('plain', { match: 'default: true' }) },
  });
}, 180_000);

afterAll(async () => {
  await env?.close();
});

const labels = (n: number, size: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'x'.repeat(size)]));

describe('input limits', () => {
  it('refuses 900 KB titles and 400 labels of 2 KB on every intake route; a normal alert opens afterwards', async () => {
    const detector = env.keys.detector.key;
    const huge = 'A'.repeat(900 * 1024);
    const refusals = [
      await http(`${env.url}/intake/alerts`, { key: detector, body: { source: 'waf', title: huge } }),
      await http(`${env.url}/intake/alerts`, {
        key: detector,
        body: { source: 'waf', title: 't', labels: labels(400, 2048) },
      }),
      await http(`${env.url}/incidents`, { key: env.keys.operator.key, body: { title: huge, runbook: 'plain' } }),
    ];
    for (const res of refusals) {
      expect(res.status, res.text).toBe(413);
      expect(res.body).toMatchObject({ error: 'payload_too_large' });
      expect(res.body.message).toContain(`at most ${MAX_PAYLOAD_BYTES}`);
      expect(isCleanError(res.body)).toBe(true);
    }

    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        '/intake/alerts',
        { source: 'waf', title: 'T'.repeat(MAX_TITLE_CHARS + 1) },
        new RegExp(`^body\\.title: ${MAX_TITLE_CHARS + 1} characters; at most ${MAX_TITLE_CHARS}$`),
      ],
      [
        '/intake/alerts',
        { source: 'waf', title: 't', labels: labels(MAX_LABELS + 1, 1) },
        new RegExp(`^body\\.labels: ${MAX_LABELS + 1} labels; at most ${MAX_LABELS}$`),
      ],
      [
        '/intake/alerts',
        { source: 'waf', title: 't', labels: { user: 'u'.repeat(MAX_LABEL_VALUE_CHARS + 1) } },
        new RegExp(`^body\\.labels\\.user: .*at most ${MAX_LABEL_VALUE_CHARS}$`),
      ],
      [
        '/intake/alerts',
        { source: 's'.repeat(MAX_TEXT_CHARS + 1), title: 't' },
        new RegExp(`^body\\.source: .*at most ${MAX_TEXT_CHARS}$`),
      ],
      [
        '/intake/alerts',
        { source: 'waf', title: 't', affectedSystems: Array.from({ length: MAX_LIST_ITEMS + 1 }, (_, i) => `s${i}`) },
        new RegExp(`^body\\.affectedSystems: ${MAX_LIST_ITEMS + 1} items; at most ${MAX_LIST_ITEMS}$`),
      ],
      [
        '/intake/alertmanager',
        {
          version: '4',
          status: 'firing',
          alerts: [{ status: 'firing', labels: { alertname: 'x', big: 'b'.repeat(MAX_LABEL_VALUE_CHARS + 1) } }],
        },
        /^body\.alerts\[0\]\.labels\.big: /,
      ],
    ];
    for (const [route, body, message] of cases) {
      const res = await http(`${env.url}${route}`, { key: detector, body });
      expect(res.status, `${route} ${res.text}`).toBe(422);
      expect(res.body).toMatchObject({ error: 'too_large' });
      expect(res.body.message).toMatch(message);
    }

    const { incidents } = (await http<{ incidents: unknown[] }>(`${env.url}/incidents`, { key: env.keys.viewer.key }))
      .body;
    expect(incidents).toEqual([]);
    const normal = await http<{ created: boolean }>(`${env.url}/intake/alerts`, {
      key: detector,
      body: { source: 'waf', title: 'SQL injection attempts', labels: { rule: 'sqli' } },
    });
    expect(normal.status, normal.text).toBeLessThan(300);
    expect(normal.body.created).toBe(true);
  }, 120_000);

  it('bounds nesting and names odd keys exactly', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(() => checkInputLimits(deep)).toThrow(/nested deeper than 16 levels/);
    expect(() => checkInputLimits({ labels: { 'a b': 'v'.repeat(2_000) } })).toThrow(/^body\.labels\["a b"\]: /);
  });

  it('refuses or ignores oversized updates, opens and signals sent straight to Temporal, failing no workflow task', async () => {
    const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
      key: env.keys.operator.key,
      body: { title: 'direct limits', runbook: 'plain', severity: 'P3', drill: true },
    });
    expect(opened.status, opened.text).toBeLessThan(300);
    const id = opened.body.incidentId;
    const long = 'x'.repeat(MAX_TEXT_CHARS + 1);

    // Updates: the validator refuses them, naming the limit; nothing is recorded.
    for (const [name, input] of [
      ['recordRootCause', { by: 'root', summary: long }],
      ['assignOwner', { by: 'root', owner: long }],
      ['acknowledge', { by: long }],
      ['updateImpact', { by: 'root', affectedSystems: Array.from({ length: MAX_LIST_ITEMS + 1 }, (_, i) => `s${i}`) }],
    ] as const) {
      const sent = env.incidents.send(id, name, input);
      await expect(sent, name).rejects.toBeInstanceOf(UpdateRefusedError);
      await expect(sent, name).rejects.toThrow(/expected at most \d+ (characters|items)/);
    }

    // Signals: ignored (900 KB of summary, 400 labels of 2 KB); a normal alert afterwards is taken.
    const alert = { source: 'waf', status: 'firing', summary: '', labels: {} } as const;
    await env.incidents.signalAlert(id, { ...alert, summary: 'S'.repeat(900 * 1024) });
    await env.incidents.signalAlert(id, { ...alert, labels: labels(400, 2048) });
    await env.incidents.signalAlert(id, { ...alert, summary: 'normal', labels: { rule: 'r' } });
    const timeline = await waitFor(async () => {
      const t = await env.incidents.timeline(id);
      return t.some((e) => e.type === 'alert') ? t : undefined;
    }, 'the normal alert on the timeline');
    const alerts = timeline.filter((e) => e.type === 'alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ summary: 'normal' });
    expect(JSON.stringify(timeline).length).toBeLessThan(64 * 1024);

    // Opening straight through the registry: refused by its validator; the registry keeps running.
    const registry = env.client.workflow.getHandle(REGISTRY_WORKFLOW_ID);
    const refused = await registry
      .executeUpdate(openIncidentUpdate, {
        // As a direct caller sends it: only what it chose to fill in.
        args: [
          {
            title: 'T'.repeat(900 * 1024),
            trigger: 'root',
            runbook: { id: 'plain', hash: 'a'.repeat(64) },
          } as unknown as OpenIncidentInput,
        ],
      })
      .then(
        () => 'accepted',
        (error: Error) => String((error.cause as Error | undefined)?.message),
      );
    expect(refused).toMatch(/title.*at most 512 characters/s);

    for (const workflowId of [id, REGISTRY_WORKFLOW_ID]) {
      const handle = env.client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name, workflowId).toBe('RUNNING');
      const history = await handle.fetchHistory();
      const failedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
      expect(failedTasks, workflowId).toEqual([]);
    }
  }, 120_000);

  it('reads the timeline in pages over HTTP: from, limit, next and total', async () => {
    const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
      key: env.keys.operator.key,
      body: { title: 'paged timeline', runbook: 'plain', severity: 'P3', drill: true },
    });
    const id = opened.body.incidentId;
    type Page = { timeline: { type: string }[]; next: number; total: number };
    const whole = await waitFor(async () => {
      const res = await http<Page>(`${env.url}/incidents/${id}/timeline`, { key: env.keys.viewer.key });
      return res.body.total >= 4 ? res.body : undefined;
    }, 'a few timeline events');
    expect(whole.next).toBe(whole.total);
    const first = await http<Page>(`${env.url}/incidents/${id}/timeline?from=0&limit=2`, { key: env.keys.viewer.key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.timeline).toEqual(whole.timeline.slice(0, 2));
    expect(first.body.next).toBe(2);
    const second = await http<Page>(`${env.url}/incidents/${id}/timeline?from=2&limit=2`, { key: env.keys.viewer.key });
    expect(second.body.timeline).toEqual(whole.timeline.slice(2, 4));
    const bad = await http(`${env.url}/incidents/${id}/timeline?limit=100000`, { key: env.keys.viewer.key });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/limit.*at most 500/);
  }, 60_000);
});
