// Reviews and reports through the product's own doors, on a real dev server: an incident opened, noted, resolved and
// closed through the HTTP API records its review at close, served at GET /incidents/{id}/review naming it with its
// times to contain and resolve, its notes, lessons and follow-ups; a follow-up completed after close leaves the
// reports; GET /reports/weekly counts it, and `incident-engine report weekly --format json` (a child
// process, as users run it) gives the same numbers. Bad input gets a clear 400.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeriodicReport } from '../../domain/report';
import type { Review } from '../../domain/review';
import { type ApiEnv, http, isCleanError, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';
import { runCli } from '../helpers/run-cli';

let env: ApiEnv;
let id: string;

beforeAll(async () => {
  env = await startApiEnv({ runbooks: { 'web-attack': plainRunbook('web-attack') }, taskQueue: 'reports-api-test' });
  const op = env.keys.operator.key;
  const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
    key: op,
    body: { runbook: 'web-attack', title: 'Login flood <script>alert(1)</script>', severity: 'P2' },
  });
  expect(opened.status).toBe(201);
  id = opened.body.incidentId;
  await http(`${env.url}/incidents/${id}/acknowledge`, { key: op, body: {} });
  const notes = [
    ['add-note', { text: 'flood from 203.0.113.0/24', finding: true }],
    ['record-lessons', { lessonsLearned: ['rate-limit logins'], procedureUpdates: ['add a WAF step'] }],
    ['add-follow-up', { title: 'tune the rate limit', owner: 'bob', due: '2026-12-10' }],
    ['add-follow-up', { title: 'review WAF rules', owner: 'carol', due: '2026-12-11' }],
  ] as const;
  for (const [route, body] of notes) {
    expect((await http(`${env.url}/incidents/${id}/${route}`, { key: op, body })).status).toBe(200);
  }
  await waitFor(async () => {
    const s = await env.incidents.status(id);
    return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
  }, 'eradicate waiting');
  expect((await http(`${env.url}/incidents/${id}/resolve`, { key: op, body: { summary: 'blocked' } })).status).toBe(
    200,
  );
  await waitFor(async () => {
    const s = await env.incidents.status(id);
    return s.phase === 'post-incident' && s.awaitingAdvance ? s : undefined;
  }, 'post-incident waiting');
  expect((await http(`${env.url}/incidents/${id}/advance-phase`, { key: op, body: {} })).status).toBe(200);
  // The incident records its final review and summary as it closes.
  await waitFor(
    async () => existsSync(path.join(env.config.dataDir, 'reviews', `${id}.json`)) || undefined,
    'the review recorded at close',
  );
}, 180_000);

afterAll(async () => {
  await env?.close();
});

describe('reviews and reports over HTTP and the CLI', () => {
  it('serves the review of a closed incident in JSON, Markdown and escaped HTML', async () => {
    const viewer = env.keys.viewer.key;
    const json = await http<Review>(`${env.url}/incidents/${id}/review`, { key: viewer });
    expect(json.status).toBe(200);
    expect(json.body.summary).toMatchObject({ incidentId: id, status: 'closed' });
    expect(json.body.times.containMs).toBeGreaterThanOrEqual(0);
    expect(json.body.times.resolveMs).toBeGreaterThanOrEqual(0);
    expect(json.body.final).toBe(true);
    expect(json.body.notes).toMatchObject([{ by: 'operator-1', text: 'flood from 203.0.113.0/24', finding: true }]);
    expect(json.body.lessons.map((l) => [l.kind, l.text])).toEqual([
      ['lesson_learned', 'rate-limit logins'],
      ['procedure_update', 'add a WAF step'],
    ]);
    expect(json.body.followUps.map((f) => [f.id, f.title, f.owner, f.doneAt])).toEqual([
      ['F1', 'tune the rate limit', 'bob', undefined],
      ['F2', 'review WAF rules', 'carol', undefined],
    ]);
    const md = await http(`${env.url}/incidents/${id}/review?format=md`, { key: viewer });
    expect(md.headers.get('content-type')).toMatch(/text\/markdown/);
    expect(md.text).toContain(id);
    expect(md.text).toMatch(/Time to contain:\*\* \S+/);
    expect(md.text).toMatch(/Time to resolve:\*\* \S+/);
    const page = await http(`${env.url}/incidents/${id}/review?format=html`, { key: viewer });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const bad = await http(`${env.url}/incidents/${id}/review?format=pdf`, { key: viewer });
    expect(bad.status).toBe(400);
    expect(isCleanError(bad.body)).toBe(true);
    expect(bad.text).toMatch(/md, json or html/);
    expect((await http(`${env.url}/incidents/${id}/review`)).status).toBe(401);
  });

  it('counts the incident in the weekly report once recorded at close, and the CLI gives the same numbers', async () => {
    const viewer = env.keys.viewer.key;
    const api = await http<PeriodicReport>(`${env.url}/reports/weekly?format=json`, { key: viewer });
    expect(api.status).toBe(200);
    expect(api.body.metrics.overall.count).toBe(1);
    expect(api.body.incidents.map((i) => i.incidentId)).toEqual([id]);
    expect(api.body.metrics.counts.bySeverity.P2).toBe(1);
    expect(api.body.followUpsOpen.map((f) => f.title)).toEqual(['tune the rate limit', 'review WAF rules']);

    const configFile = path.join(env.config.dataDir, '..', 'incident-engine.yaml');
    writeFileSync(configFile, `dataDir: ${JSON.stringify(env.config.dataDir)}\n`);
    const cli = await runCli(['report', 'weekly', '--format', 'json'], {
      ...process.env,
      INCIDENT_ENGINE_CONFIG: configFile,
    });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as PeriodicReport;
    expect(fromCli.metrics.overall).toEqual(api.body.metrics.overall);
    expect(fromCli.incidents).toEqual(api.body.incidents);

    const html = await http(`${env.url}/reports/monthly?format=html`, { key: viewer });
    expect(html.text).toContain('<svg');
    const wrong = await http(`${env.url}/reports/weekly?from=last-tuesday`, { key: viewer });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: 'invalid_request' });
    expect(String(wrong.body.message)).toMatch(/expected a date like 2026-11-30/);
    expect((await http(`${env.url}/reports/yearly`, { key: viewer })).status).toBe(400);

    const review = await runCli(['incident', 'review', id, '--format', 'md'], {
      ...process.env,
      INCIDENT_ENGINE_CONFIG: configFile,
    });
    expect(review.code).toBe(0);
    expect(review.stdout).toContain(`Post-incident review: ${id}`);
    const badKind = await runCli(['report', 'daily'], { ...process.env, INCIDENT_ENGINE_CONFIG: configFile });
    expect(badKind.code).toBe(1);
    expect(badKind.stderr).toMatch(/expected a report kind: weekly, monthly, quarterly/);
  });

  it('completes a follow-up after close in the record: the review shows it done, the reports stop listing it', async () => {
    const op = env.keys.operator.key;
    const url = `${env.url}/incidents/${id}/follow-ups`;
    const done = await http<{ recordedIn: string; doneBy: string }>(`${url}/F1/complete`, {
      key: op,
      body: { note: 'limit at 20/min' },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ recordedIn: 'review', doneBy: 'operator-1' });
    const again = await http(`${url}/F1/complete`, { key: op, body: {} });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ message: 'follow-up "F1" was already completed by operator-1' });
    const unknown = await http(`${url}/F9/complete`, { key: op, body: {} });
    expect(unknown.status).toBe(404);
    expect(String(unknown.body.message)).toBe(`no follow-up "F9" on incident ${id}; its follow-ups are: F1, F2`);
    expect((await http(`${url}/F2/complete`, { key: env.keys.viewer.key, body: {} })).status).toBe(403);
    expect((await http(`${url}/2/complete`, { key: op, body: {} })).status).toBe(400);

    const viewer = env.keys.viewer.key;
    const review = await http<Review>(`${env.url}/incidents/${id}/review`, { key: viewer });
    expect(review.body.followUps[0]).toMatchObject({ id: 'F1', doneBy: 'operator-1' });
    const md = await http(`${env.url}/incidents/${id}/review?format=md`, { key: viewer });
    expect(md.text).toMatch(/F1 \| tune the rate limit \| bob \| \S+ \| \S+ by operator-1/);
    const weekly = await http<PeriodicReport>(`${env.url}/reports/weekly?format=json`, { key: viewer });
    expect(weekly.body.followUpsOpen.map((f) => f.title)).toEqual(['review WAF rules']);
  });

  it('serves incident metrics for Grafana: open incidents, escalations, time to acknowledge and resolve', async () => {
    const op = env.keys.operator.key;
    const second = await http<{ incidentId: string }>(`${env.url}/incidents`, {
      key: op,
      body: { runbook: 'web-attack', title: 'still open', severity: 'P1' },
    });
    const drill = await http<{ incidentId: string }>(`${env.url}/incidents`, {
      key: op,
      body: { runbook: 'web-attack', title: 'a drill', severity: 'P3', drill: true },
    });
    const metrics = await waitFor(async () => {
      const m = await http(`${env.url}/metrics`, { key: env.keys.viewer.key });
      return /incident_open\{severity="P1",status="active",phase="[a-z-]+"\} 1/.test(m.text) &&
        /incident_drills_open\{phase="[a-z-]+"\} 1/.test(m.text)
        ? m.text
        : undefined;
    }, 'the open incident and the drill in /metrics');
    // The incident closed above (P2) is in the histograms; the open ones and the drill are not.
    expect(metrics).toMatch(/incident_time_to_resolve_seconds_count\{severity="P2"\} 1/);
    expect(metrics).toMatch(/incident_time_to_acknowledge_seconds_count\{severity="P2"\} 1/);
    expect(metrics).toContain('# TYPE incident_escalations_total counter');
    expect(metrics).not.toMatch(/incident_open\{severity="P3"/);
    await env.incidents.declareFalsePositive(second.body.incidentId, { by: 'test', reason: 'cleanup' });
    await env.incidents.declareFalsePositive(drill.body.incidentId, { by: 'test', reason: 'cleanup' });
  });
});
