// The HTTP API over real HTTP against a real dev server and worker: the OpenAPI document lists every route and the docs
// page is served from local assets; health and readiness (also with Temporal unreachable); keys and roles (viewer,
// detector, operator, commander; only commanders approve destructive steps and resolve a P0); every operator update;
// list filters from visibility; and every bad input (malformed JSON, wrong types, unknown fields, oversize body, wrong
// media type, unknown incident, wrong role, rate limit) answered with the right status and `{error, message}` while
// the incident stays exactly as it was.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentClient } from '../../src/client';
import { freePort } from '../../src/temporal/ports';
import { readDrillCalls } from '../../activities/drill-recorder';
import { type ApiEnv, http, isCleanError, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

const BODY_LIMIT = 16 * 1024;

const APPROVALS_RUNBOOK = `id: approvals
version: 1
title: Approvals
category: security
eventTypes: [unauthorized_access, other]
phases:
  detect: {}
  contain:
    steps:
      - id: kill-switch
        action: app.killSwitch
        with: { enabled: true }
        approval: { roles: [incident-commander] }
      - id: notify-lead
        action: notify.send
        with: { audience: internal, message: 'containment under way for \${incident.id}' }
        approval: { roles: [security-lead] }
      - id: brief-legal
        action: task
        with: { instructions: brief the legal team }
  eradicate: { advance: manual }
  recover: {}
  post-incident: { advance: manual }
`;

type Incident = {
  incidentId: string;
  startedAt: number;
  status: string;
  phase: string;
  severity: string;
  awaitingAdvance: boolean;
  acknowledgedBy?: string;
  owner?: string;
  rootCause?: { summary: string; by: string };
  affectedSystems: string[];
  dataBreachConfirmed: boolean;
  escalation: { level: number };
  waitingSteps: { stepId: string; action: string; kind: string; roles?: string[] }[];
  timeline: { type: string; by?: string; [k: string]: unknown }[];
};

describe('HTTP API on a real dev server', () => {
  let env: ApiEnv;
  let url: string;
  let key: ApiEnv['keys'];

  beforeAll(async () => {
    env = await startApiEnv({
      taskQueue: 'api-test',
      runbooks: { approvals: APPROVALS_RUNBOOK, plain: plainRunbook('plain', { match: 'default: true' }) },
      api: { bodyLimitBytes: BODY_LIMIT },
    });
    url = env.url;
    key = env.keys;
  });

  afterAll(async () => {
    await env?.close();
  });

  async function open(body: Record<string, unknown>, as = key.operator.key) {
    const res = await http<{ incidentId: string; created: boolean }>(`${url}/incidents`, { key: as, body });
    expect(res.status, res.text).toBeLessThan(300);
    return res.body;
  }

  async function get(id: string): Promise<Incident> {
    const res = await http<Incident>(`${url}/incidents/${id}`, { key: key.viewer.key });
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  function post(id: string, update: string, body: unknown, as: string) {
    return http<Incident & { error?: string; message?: string }>(`${url}/incidents/${id}/${update}`, { key: as, body });
  }

  it('lists every route in /openapi.json and serves /docs from local assets', async () => {
    const doc = await http<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(`${url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const served = env.api.routes
      .filter((r) => r.url !== '/openapi.json')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(doc.body.paths)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(served);
    // Every update and every intake format is there.
    for (const route of [
      'POST /incidents',
      'GET /incidents',
      'GET /incidents/{id}',
      'POST /incidents/{id}/acknowledge',
      'POST /incidents/{id}/set-severity',
      'POST /incidents/{id}/record-root-cause',
      'POST /incidents/{id}/assign-owner',
      'POST /incidents/{id}/escalate',
      'POST /incidents/{id}/update-impact',
      'POST /incidents/{id}/advance-phase',
      'POST /incidents/{id}/resolve',
      'POST /incidents/{id}/declare-false-positive',
      'POST /incidents/{id}/approve-step',
      'POST /incidents/{id}/reject-step',
      'POST /incidents/{id}/complete-task',
      'POST /intake/alertmanager',
      'POST /intake/pagerduty',
      'POST /intake/alerts',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      expect(documented).toContain(route);
    }

    const page = await http(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // Nothing is fetched from elsewhere: every script and stylesheet is a local path, and each one loads.
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.filter((a) => /^(https?:)?\/\//.test(a))).toEqual([]);
    const base = new URL(`${url}/docs/`);
    for (const asset of assets.filter((a) => /\.(js|css)$/.test(a))) {
      const res = await fetch(new URL(asset, base));
      expect(res.status, asset).toBe(200);
      await res.arrayBuffer();
    }
    const init = await http(new URL('./static/swagger-initializer.js', base).toString());
    expect(init.status).toBe(200);
    expect(init.text).toContain("resolveUrl('./json')");
    expect(init.text).not.toMatch(/petstore/);
  });

  it('answers /healthz and /readyz, and 503 when Temporal is unreachable', async () => {
    expect(await http(`${url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await http(`${url}/readyz`)).toMatchObject({
      status: 200,
      body: { status: 'ready', temporal: env.server.address },
    });

    const deadAddress = `127.0.0.1:${await freePort()}`;
    const lazy = Connection.lazy({ address: deadAddress, connectTimeout: 1_000 });
    const dead = await env.startAnotherApi(
      {},
      {
        temporal: new IncidentClient(new Client({ connection: lazy, namespace: 'default' }), 'nowhere'),
        temporalAddress: deadAddress,
      },
    );
    expect(await http(`${dead.url}/healthz`)).toMatchObject({ status: 200 });
    const ready = await http(`${dead.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error: 'not_ready' });
    expect(String(ready.body.message)).toContain(`cannot reach Temporal at ${deadAddress}`);
    expect(isCleanError(ready.body)).toBe(true);
    const update = await http(`${dead.url}/incidents/INC-2026-001/acknowledge`, { key: key.operator.key, body: {} });
    expect(update.status).toBe(503);
    expect(update.body).toMatchObject({ error: 'temporal_unavailable' });
    expect(isCleanError(update.body)).toBe(true);
    await dead.close();
  });

  it('refuses requests without a valid key or with the wrong role', async () => {
    const cases: [string, { method?: string; key?: string; body?: unknown }, number, RegExp][] = [
      ['/incidents', {}, 401, /expected an API key/],
      ['/incidents', { key: 'iek_000000000000_' + 'a'.repeat(43) }, 401, /not valid/],
      ['/incidents', { key: 'not-a-key' }, 401, /not valid/],
      ['/incidents', { key: key.detector.key }, 403, /role detector, which may not read incidents/],
      [
        '/incidents',
        { key: key.viewer.key, body: { title: 'x', runbook: 'plain' } },
        403,
        /role viewer, which may not open incidents/,
      ],
      ['/incidents', { key: key.detector.key, body: { title: 'x', runbook: 'plain' } }, 403, /may not open incidents/],
      ['/incidents/INC-2026-001/acknowledge', { key: key.viewer.key, body: {} }, 403, /may not steer incidents/],
      ['/intake/alerts', { key: key.operator.key, body: { source: 's', title: 't' } }, 403, /may not post alerts/],
      ['/intake/alerts', { key: key.viewer.key, body: { source: 's', title: 't' } }, 403, /may not post alerts/],
    ];
    for (const [route, options, status, message] of cases) {
      const res = await http(`${url}${route}`, options);
      expect(res.status, `${route} ${res.text}`).toBe(status);
      expect(res.body.error).toBe(status === 401 ? 'unauthorized' : 'forbidden');
      expect(String(res.body.message)).toMatch(message);
      expect(isCleanError(res.body), res.text).toBe(true);
    }
    // X-API-Key works as well as a bearer token.
    const viaHeader = await http(`${url}/incidents?limit=1`, { headers: { 'x-api-key': key.viewer.key } });
    expect(viaHeader.status).toBe(200);
  });

  it('opens with dedup, gets status and timeline, and lists with filters', async () => {
    const first = await http<{ incidentId: string; created: boolean }>(`${url}/incidents`, {
      key: key.operator.key,
      body: {
        title: 'admin login from unknown address',
        runbook: 'plain',
        severity: 'High',
        drill: true,
        dedupKey: 'api-dedup-1',
      },
    });
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    const again = await http<{ incidentId: string; created: boolean }>(`${url}/incidents`, {
      key: key.commander.key,
      body: { title: 'the same thing again', runbook: 'plain', dedupKey: 'api-dedup-1' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ incidentId: first.body.incidentId, created: false });
    // A start in the future is refused, not silently replaced by the opening time.
    const future = await http<{ error: string; message: string }>(`${url}/incidents`, {
      key: key.operator.key,
      body: { title: 'from the future', runbook: 'plain', startedAt: Date.now() + 24 * 3_600_000 },
    });
    expect(future.status, future.text).toBe(400);
    expect(future.body.message).toMatch(/^body\.startedAt: \S+ is in the future; expected when the incident began/);
    // An ISO 8601 time with its offset is taken as well; one without an offset is ambiguous and refused.
    const began = '2026-01-02T03:04:05+01:00';
    const iso = await http<{ incidentId: string }>(`${url}/incidents`, {
      key: key.operator.key,
      body: { title: 'began before it was seen', runbook: 'plain', drill: true, startedAt: began },
    });
    expect(iso.status, iso.text).toBe(201);
    expect((await get(iso.body.incidentId)).startedAt).toBe(Date.parse(began));
    const local = await http<{ message: string }>(`${url}/incidents`, {
      key: key.operator.key,
      body: { title: 'began at some local time', runbook: 'plain', startedAt: '2026-01-02T03:04:05' },
    });
    expect(local.status, local.text).toBe(400);
    expect(local.body.message).toContain('body.startedAt: expected when the incident began: epoch milliseconds, or');

    const id = first.body.incidentId;
    const incident = await get(id);
    expect(incident).toMatchObject({
      incidentId: id,
      severity: 'P1',
      status: 'active',
      drill: true,
      runbookId: 'plain',
    });
    expect(incident.timeline[0]).toMatchObject({
      type: 'opened',
      trigger: 'api:operator-1',
      title: 'admin login from unknown address',
    });
    const timeline = await http<{ timeline: unknown[] }>(`${url}/incidents/${id}/timeline`, { key: key.viewer.key });
    expect(timeline.status).toBe(200);
    expect(timeline.body.timeline.length).toBeGreaterThan(0);

    const listed = await waitFor(async () => {
      const res = await http<{ incidents: { incidentId: string }[] }>(
        `${url}/incidents?runbook=plain&drill=true&severity=P1&status=active&category=security`,
        { key: key.viewer.key },
      );
      return res.body.incidents?.some((i) => i.incidentId === id) ? res.body.incidents : undefined;
    }, `${id} in the filtered list`);
    expect(listed.find((i) => i.incidentId === id)).toMatchObject({
      severity: 'P1',
      runbookId: 'plain',
      drill: true,
      status: 'active',
    });
    for (const miss of ['severity=P0', 'drill=false', 'runbook=approvals', 'category=privacy', 'status=closed']) {
      const res = await http<{ incidents: { incidentId: string }[] }>(`${url}/incidents?${miss}`, {
        key: key.viewer.key,
      });
      expect(res.status).toBe(200);
      expect(
        res.body.incidents.map((i) => i.incidentId),
        miss,
      ).not.toContain(id);
    }
    for (const [query, message] of [
      ['severity=P9', /query\.severity: expected a severity/],
      ['drill=maybe', /query\.drill: expected true or false/],
      ['limit=0', /query\.limit: expected a limit of at least 1/],
      ['limit=0x10', /query\.limit: expected a whole number in digits, like 50/],
      ['limit=1e2', /query\.limit: expected a whole number in digits, like 50/],
      ['limit=', /query\.limit: expected a whole number in digits, like 50/],
      ['status=sleeping', /query\.status: expected a status/],
      ['colour=red', /Unrecognized key/],
    ] as const) {
      const res = await http(`${url}/incidents?${query}`, { key: key.viewer.key });
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(String(res.body.message)).toMatch(message);
    }
    const unknownRunbook = await http(`${url}/incidents`, {
      key: key.operator.key,
      body: { title: 'x', runbook: 'nope' },
    });
    expect(unknownRunbook.status).toBe(422);
    expect(unknownRunbook.body).toMatchObject({ error: 'no_runbook' });
    expect(String(unknownRunbook.body.message)).toContain('no runbook "nope"; known runbooks: approvals, plain');
  });

  it('answers every bad input with the right status and message, and changes no incident', async () => {
    const { incidentId: id } = await open({ title: 'bad input target', runbook: 'plain', severity: 'P2', drill: true });
    const ready = await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);
    const before = { ...ready, timeline: ready.timeline };

    const big = JSON.stringify({ summary: 'x'.repeat(BODY_LIMIT + 1) });
    const cases: {
      what: string;
      update: string;
      body: string;
      headers?: Record<string, string>;
      key?: string;
      id?: string;
      status: number;
      error: string;
      message: RegExp;
    }[] = [
      {
        what: 'malformed JSON',
        update: 'resolve',
        body: '{"summary": ',
        status: 400,
        error: 'malformed_json',
        message: /not valid JSON/,
      },
      {
        what: 'empty JSON body',
        update: 'resolve',
        body: '',
        headers: { 'content-type': 'application/json' },
        status: 400,
        error: 'malformed_json',
        message: /empty/,
      },
      {
        what: 'wrong type',
        update: 'set-severity',
        body: '{"severity": 5}',
        status: 400,
        error: 'invalid_request',
        message: /body\.severity: expected a severity: P0, P1, P2, P3/,
      },
      {
        what: 'bad severity',
        update: 'set-severity',
        body: '{"severity": "P7"}',
        status: 400,
        error: 'invalid_request',
        message: /body\.severity: expected a severity/,
      },
      {
        what: 'missing field',
        update: 'record-root-cause',
        body: '{}',
        status: 400,
        error: 'invalid_request',
        message: /body\.summary/,
      },
      {
        what: 'blank text',
        update: 'declare-false-positive',
        body: '{"reason": "  "}',
        status: 400,
        error: 'invalid_request',
        message: /body\.reason: expected why this is a false positive/,
      },
      {
        what: "by is not the caller's to set",
        update: 'acknowledge',
        body: '{"by": "mallory"}',
        status: 400,
        error: 'invalid_request',
        message: /Unrecognized key: "by"/,
      },
      {
        what: 'wrong level',
        update: 'escalate',
        body: '{"reason": "x", "level": 7}',
        status: 400,
        error: 'invalid_request',
        message: /body\.level/,
      },
      {
        what: 'impact without fields',
        update: 'update-impact',
        body: '{}',
        status: 400,
        error: 'invalid_request',
        message: /expected affectedSystems or dataBreachConfirmed/,
      },
      {
        what: 'not an object',
        update: 'acknowledge',
        body: '[1,2]',
        status: 400,
        error: 'invalid_request',
        message: /expected object/,
      },
      {
        what: 'oversize body',
        update: 'resolve',
        body: big,
        status: 413,
        error: 'body_too_large',
        message: new RegExp(`larger than the limit of ${BODY_LIMIT} bytes`),
      },
      {
        what: 'form body',
        update: 'resolve',
        body: 'summary=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        error: 'unsupported_media_type',
        message: /expected Content-Type: application\/json/,
      },
      {
        what: 'compressed body',
        update: 'resolve',
        body: '{}',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        status: 415,
        error: 'unsupported_media_type',
        message: /Content-Encoding "gzip" is not taken: send the JSON body uncompressed/,
      },
      {
        what: 'unknown incident',
        update: 'acknowledge',
        body: '{}',
        id: 'INC-2099-999',
        status: 404,
        error: 'not_found',
        message: /^no incident INC-2099-999$/,
      },
      {
        what: 'bad id',
        update: 'acknowledge',
        body: '{}',
        id: 'not-an-id',
        status: 400,
        error: 'invalid_request',
        message: /params\.id: expected an incident id like INC-2026-001/,
      },
      {
        what: 'unknown update',
        update: 'explode',
        body: '{}',
        status: 404,
        error: 'not_found',
        message: /no route POST/,
      },
      {
        what: 'viewer steering',
        update: 'acknowledge',
        body: '{}',
        key: key.viewer.key,
        status: 403,
        error: 'forbidden',
        message: /viewer/,
      },
      {
        what: 'detector steering',
        update: 'resolve',
        body: '{}',
        key: key.detector.key,
        status: 403,
        error: 'forbidden',
        message: /detector/,
      },
      {
        what: 'no key',
        update: 'resolve',
        body: '{}',
        key: '',
        status: 401,
        error: 'unauthorized',
        message: /expected an API key/,
      },
      {
        what: 'a step that is not waiting',
        update: 'approve-step',
        body: '{"stepId": "nothing-here"}',
        status: 409,
        error: 'refused',
        message: /approveStep refused for INC-\d{4}-\d+: .*nothing-here/,
      },
    ];
    for (const c of cases) {
      const res = await http(`${url}/incidents/${c.id ?? id}/${c.update}`, {
        key: c.key ?? key.operator.key,
        body: c.body,
        ...(c.headers ? { headers: c.headers } : {}),
      });
      expect(res.status, `${c.what}: ${res.text}`).toBe(c.status);
      expect(res.body, c.what).toMatchObject({ error: c.error });
      expect(String(res.body.message), c.what).toMatch(c.message);
      expect(isCleanError(res.body), `${c.what}: ${res.text}`).toBe(true);
    }

    const after = await get(id);
    expect(after.timeline).toEqual(before.timeline);
    const { timeline: _a, ...afterState } = after;
    const { timeline: _b, ...beforeState } = before;
    expect(afterState).toEqual(beforeState);
  });

  it('carries out every operator update, with `by` from the key', async () => {
    const { incidentId: id } = await open({ title: 'every update', runbook: 'plain', severity: 'P2', drill: true });
    await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);
    const op = key.operator.key;

    const ack = await post(id, 'acknowledge', { note: 'on it' }, op);
    expect(ack.status, ack.text).toBe(200);
    expect(ack.body.acknowledgedBy).toBe('operator-1');
    const ackAgain = await post(id, 'acknowledge', {}, op);
    expect(ackAgain.status).toBe(409);
    expect(ackAgain.body).toMatchObject({ error: 'refused' });
    expect(String(ackAgain.body.message)).toMatch(/already acknowledged/);

    expect((await post(id, 'set-severity', { severity: 'High', reason: 'more users' }, op)).body.severity).toBe('P1');
    expect((await post(id, 'record-root-cause', { summary: 'reused password' }, op)).body.rootCause).toMatchObject({
      summary: 'reused password',
      by: 'operator-1',
    });
    expect((await post(id, 'assign-owner', { owner: 'alice' }, op)).body.owner).toBe('alice');
    const impact = await post(id, 'update-impact', { affectedSystems: ['api'], dataBreachConfirmed: false }, op);
    expect(impact.status, impact.text).toBe(200);
    expect(impact.body.affectedSystems).toEqual(['api']);
    const escalated = await post(id, 'escalate', { reason: 'press enquiry', level: 2 }, op);
    expect(escalated.status, escalated.text).toBe(200);
    expect(escalated.body.escalation.level).toBe(2);
    const resolved = await post(id, 'resolve', { summary: 'password rotated' }, op);
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body.status).toBe('resolved');
    await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'post-incident' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in post-incident`);
    const advanced = await post(id, 'advance-phase', { note: 'review done' }, op);
    expect(advanced.status, advanced.text).toBe(200);
    const closed = await waitFor(async () => {
      const s = await get(id);
      return s.status === 'closed' ? s : undefined;
    }, `${id} closed`);
    const byOperator = closed.timeline.filter((e) => e.by === 'operator-1').map((e) => e.type);
    for (const type of [
      'acknowledged',
      'severity_changed',
      'root_cause_recorded',
      'owner_assigned',
      'impact_updated',
      'resolved',
      'phase_advanced',
    ]) {
      expect(byOperator).toContain(type);
    }
    expect(closed.timeline.find((e) => e.type === 'escalated' && e.trigger === 'manual')).toMatchObject({
      toLevel: 2,
      reason: 'escalated by operator-1: press enquiry',
    });
    const late = await post(id, 'acknowledge', {}, op);
    expect(late.status).toBe(409);
    expect(String(late.body.message)).toMatch(/closed/);

    // A false positive closes another incident.
    const { incidentId: fp } = await open({ title: 'scanner noise', runbook: 'plain', severity: 'P3', drill: true });
    const declared = await post(fp, 'declare-false-positive', { reason: 'scanner test traffic' }, op);
    expect(declared.status, declared.text).toBe(200);
    await waitFor(async () => ((await get(fp)).status === 'false_positive' ? true : undefined), `${fp} false positive`);
  });

  it('lets only commanders approve destructive steps; operators approve the rest, reject and complete tasks', async () => {
    const { incidentId: id } = await open({ title: 'approvals', runbook: 'approvals', severity: 'P1', drill: true });
    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'kill-switch') ? true : undefined),
      'kill-switch waiting',
    );

    const denied = await post(id, 'approve-step', { stepId: 'kill-switch' }, key.operator.key);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: 'forbidden' });
    expect(String(denied.body.message)).toContain('approve step "kill-switch" of');
    expect(String(denied.body.message)).toContain('app.killSwitch is destructive; that needs a commander key');
    const stillWaiting = await get(id);
    // The gate holds only its own step: later steps of the runbook (notify-lead's gate) may wait beside it.
    expect(stillWaiting.waitingSteps.map((w) => w.stepId)).toContain('kill-switch');
    expect(stillWaiting.timeline.some((e) => e.type === 'approval_granted')).toBe(false);

    const granted = await post(id, 'approve-step', { stepId: 'kill-switch', note: 'go' }, key.commander.key);
    expect(granted.status, granted.text).toBe(200);
    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'notify-lead') ? true : undefined),
      'notify-lead waiting',
    );
    // Not destructive: an operator may approve, acting in the step's approver role.
    const lead = await post(id, 'approve-step', { stepId: 'notify-lead' }, key.operator.key);
    expect(lead.status, lead.text).toBe(200);
    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'brief-legal') ? true : undefined),
      'task waiting',
    );
    const done = await post(id, 'complete-task', { stepId: 'brief-legal', note: 'legal briefed' }, key.operator.key);
    expect(done.status, done.text).toBe(200);

    const after = await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'eradicate' ? s : undefined;
    }, `${id} past containment`);
    const granted2 = after.timeline.filter((e) => e.type === 'approval_granted');
    expect(granted2.map((e) => [e.stepId, e.by, e.role])).toEqual([
      ['kill-switch', 'commander-1', 'incident-commander'],
      ['notify-lead', 'operator-1', 'security-lead'],
    ]);
    expect(after.timeline.find((e) => e.type === 'task_completed')).toMatchObject({
      stepId: 'brief-legal',
      by: 'operator-1',
    });
    // The drill recorded the kill switch once: approved, then run.
    const calls = await readDrillCalls(env.config.dataDir, id);
    expect(calls.filter((c) => c.activity === 'app.killSwitch')).toHaveLength(1);

    // Rejecting is not destructive: an operator may refuse a destructive step.
    const { incidentId: other } = await open({
      title: 'approvals rejected',
      runbook: 'approvals',
      severity: 'P1',
      drill: true,
    });
    await waitFor(
      async () => ((await get(other)).waitingSteps.some((w) => w.stepId === 'kill-switch') ? true : undefined),
      'kill-switch waiting',
    );
    const rejected = await post(
      other,
      'reject-step',
      { stepId: 'kill-switch', reason: 'service must stay up' },
      key.operator.key,
    );
    expect(rejected.status, rejected.text).toBe(200);
    const skipped = await waitFor(
      async () => (await get(other)).timeline.find((e) => e.type === 'step_skipped' && e.stepId === 'kill-switch'),
      'kill-switch skipped',
    );
    expect(skipped).toBeDefined();
    expect(await readDrillCalls(env.config.dataDir, other)).toEqual([]);
  });

  it('lets only commanders resolve a P0 incident', async () => {
    const { incidentId: id } = await open({
      title: 'customer data on a paste site',
      runbook: 'plain',
      severity: 'P0',
      drill: true,
    });
    await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);
    const denied = await post(id, 'resolve', { summary: 'done' }, key.operator.key);
    expect(denied.status).toBe(403);
    expect(String(denied.body.message)).toContain(`resolve ${id}, a P0 incident; that needs a commander key`);
    expect((await get(id)).status).toBe('active');
    const ok = await post(id, 'resolve', { summary: 'done' }, key.commander.key);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.status).toBe('resolved');
  });

  it('rate-limits per key with a JSON 429, and counts requests in /metrics', async () => {
    const limited = await env.startAnotherApi({
      rateLimit: { viewer: 3, detector: 100, operator: 100, commander: 100, anonymous: 100 },
    });
    for (let i = 0; i < 3; i++)
      expect((await http(`${limited.url}/incidents?limit=1`, { key: key.viewer.key })).status).toBe(200);
    const refused = await http(`${limited.url}/incidents?limit=1`, { key: key.viewer.key });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'rate_limited' });
    expect(String(refused.body.message)).toMatch(/key "viewer-1" sent more than 3 requests per minute; retry in/);
    expect(isCleanError(refused.body)).toBe(true);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    // Another key has its own budget.
    expect((await http(`${limited.url}/incidents?limit=1`, { key: key.operator.key })).status).toBe(200);
    await limited.close();

    expect((await http(`${url}/metrics`)).status).toBe(401);
    expect((await http(`${url}/metrics`, { key: key.detector.key })).status).toBe(403);
    const metrics = await http(`${url}/metrics`, { key: key.viewer.key });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(
      /incident_api_http_requests_total\{method="POST",route="\/incidents",status="201"\} \d+/,
    );
    expect(metrics.text).toMatch(
      /incident_api_http_requests_total\{method="POST",route="\/incidents\/:id\/resolve",status="403"\} \d+/,
    );
    expect(metrics.text).toMatch(
      /incident_api_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/incidents\/:id",status="200"\} \d+/,
    );
    // Drills are left out of the metrics (most incidents of this file are drills); a real incident is counted.
    const openedCount = (text: string) =>
      Number(/incident_api_incidents_opened_total\{via="api"\} (\d+)/.exec(text)?.[1] ?? 0);
    const before = openedCount(metrics.text);
    expect((await open({ title: 'metrics drill', runbook: 'plain', severity: 'P3', drill: true })).created).toBe(true);
    expect(openedCount((await http(`${url}/metrics`, { key: key.viewer.key })).text)).toBe(before);
    await open({ title: 'metrics real', runbook: 'plain', severity: 'P3' });
    expect(openedCount((await http(`${url}/metrics`, { key: key.viewer.key })).text)).toBe(before + 1);
  });

  it('answers requests the HTTP parser refuses in its own error shape, and closes the connection', async () => {
    const { hostname, port } = new URL(url);
    /** Writes `text` on a new connection (then ends the sending side when `end`), and reads until the server closes. */
    const raw = (text: string, end = false) =>
      new Promise<{ status: number; headers: string; body: unknown }>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
          socket.write(text);
          if (end) socket.end();
        });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => {
          const [head = '', body = ''] = received.split('\r\n\r\n');
          resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head, body: JSON.parse(body) });
        });
      });

    const headers = await raw(`GET /incidents HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(headers.status).toBe(431);
    expect(headers.body).toEqual({
      error: 'headers_too_large',
      message: 'the request line and headers are larger than the limit of 16384 bytes',
    });
    expect(headers.headers).toMatch(/\r\nConnection: close/);

    const url20k = await raw(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(url20k.status).toBe(431);
    expect(url20k.body).toMatchObject({ error: 'headers_too_large' });

    const notHttp = await raw('HELLO THERE\r\n\r\n');
    expect(notHttp.status).toBe(400);
    expect(notHttp.body).toMatchObject({ error: 'bad_request' });
    expect(String((notHttp.body as { message: string }).message)).toMatch(/^the request is not valid HTTP\/1\.1/);

    const short = await raw(
      `POST /intake/generic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key.detector.key}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{"title": "cut short"',
      true,
    );
    expect(short.status).toBe(400);
    expect(short.body).toEqual({
      error: 'bad_request',
      message: 'the request ended before the body its Content-Length announced',
    });
    for (const answer of [headers, url20k, notHttp, short]) expect(isCleanError(answer.body)).toBe(true);
  });

  it('writes API keys hashed, mode 0600', async () => {
    const text = await readFile(env.keyStore.file, 'utf8');
    for (const created of Object.values(key)) {
      expect(text).not.toContain(created.key);
      expect(text).not.toContain(created.key.slice('iek_'.length + 13));
    }
    const { fileMode } = await import('../../src/api-keys');
    expect(fileMode(env.keyStore.file)).toBe(0o600);
    expect(path.basename(env.keyStore.file)).toBe('api-keys.json');
  });
});
