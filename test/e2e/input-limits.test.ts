// Bounded input over real HTTP against a real dev server: oversized titles, too many or too long labels, long lists
// and whole bodies are refused before anything reaches Temporal (413 for the body, 422 naming the field and its
// limit), and a normal alert opens afterwards.
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
import { type ApiEnv, http, isCleanError, plainRunbook, startApiEnv } from '../helpers/api-env';

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
});
