// Detector intake over real HTTP against a real dev server: Alertmanager webhook v4 payloads (one incident per
// groupKey, alerts tracked by fingerprint, repeats change nothing, resolved alerts signalled), PagerDuty Events API v2
// (trigger/acknowledge/resolve by dedup_key, severity mapping, PagerDuty's reply shape, routing_key as the key), the
// generic JSON alert, runbook choice by the runbooks' match rules, a storm of 500 concurrent identical alerts across
// two API processes that opens exactly one incident with every alert counted, HMAC signatures (missing, wrong,
// stale, replayed), and a real Alertmanager (Debian's prometheus-alertmanager) delivering to the intake. Alerts no rule
// matches open a triage incident; dedup keys are scoped to the sending key, so one detector never reaches another's
// incidents.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '../../src/api/signatures';
import { freePort } from '../../src/temporal/ports';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MAX_OPENING_ALERTS } from '../../domain/limits';
import {
  REGISTRY_WORKFLOW_ID,
  type RegistryState,
  alertStreamId,
  registryStateQuery,
} from '../../workflows/definitions';
import { tempDir } from '../helpers/incident-fixtures';
import { type ApiEnv, alertsOf, http, isCleanError, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

const STORM = 500;
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
/** An alert group routed to a receiver that sends at most one alert per notification. */
const CAPPED = 'CappedBurst';
const TRIAGE = readFileSync(path.resolve(import.meta.dirname, '../../runbooks/triage.yaml'), 'utf8');

type Incident = {
  incidentId: string;
  runbookId: string;
  severity: string;
  status: string;
  phase: string;
  awaitingAdvance: boolean;
  title: string;
  acknowledgedBy?: string;
  resolvedAt?: number;
  recurrenceOf?: { incidentId: string; resolvedAt: number };
  escalation: { level: number };
  alertLabels: Record<string, string>;
  alertSource?: string;
  alertCounts?: { total: number; fingerprints: number };
  timeline: { type: string; [k: string]: unknown }[];
};

/** An Alertmanager webhook v4 payload as Alertmanager sends it. */
function alertmanagerPayload(
  groupKey: string,
  status: 'firing' | 'resolved',
  alerts: { instance: string; status?: 'firing' | 'resolved'; severity?: string; fingerprint: string }[],
  alertname = 'HighErrorRate',
): { commonLabels: Record<string, string>; [field: string]: unknown } {
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  return {
    receiver: 'incident-engine',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: { alertname, instance: a.instance, job: 'api', severity: a.severity ?? 'warning' },
      annotations: { summary: `5xx above 5% on ${a.instance}` },
      startsAt,
      endsAt: (a.status ?? status) === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=rate',
      fingerprint: a.fingerprint,
    })),
    groupLabels: { alertname },
    commonLabels: { alertname, job: 'api' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey,
    truncatedAlerts: 0,
  };
}

describe('alert intake on a real dev server', () => {
  let env: ApiEnv;
  let url: string;
  let key: ApiEnv['keys'];
  /** Created after the server started: detector B, and a detector that may acknowledge. */
  let others: { b: ApiEnv['keys']['detector']; pager: ApiEnv['keys']['detector'] };

  beforeAll(async () => {
    env = await startApiEnv({
      taskQueue: 'intake-test',
      runbooks: {
        'web-outage': plainRunbook('web-outage', {
          category: 'operational',
          eventTypes: ['service_outage', 'other'],
          match: 'rules:\n  - alertname: HighErrorRate\n  - alertname: DiskFull\n    labels: { job: node }',
        }),
        'db-incident': plainRunbook('db-incident', {
          category: 'operational',
          eventTypes: ['data_corruption', 'other'],
          match: 'rules:\n  - format: pagerduty\n    source: db-01\n  - labels: { team: dba }',
        }),
        'security-default': plainRunbook('security-default'),
        triage: TRIAGE,
      },
    });
    url = env.url;
    key = env.keys;
    others = {
      b: env.keyStore.create({ name: 'detector-b', role: 'detector', acknowledges: true }),
      pager: env.keyStore.create({ name: 'pager-1', role: 'detector', acknowledges: true }),
    };
  });

  afterAll(async () => {
    await env?.close();
  });

  async function get(id: string): Promise<Incident> {
    const res = await http<Incident>(`${url}/incidents/${id}`, { key: key.viewer.key });
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  async function registry(): Promise<RegistryState> {
    return env.client.workflow.getHandle(REGISTRY_WORKFLOW_ID).query(registryStateQuery);
  }

  const opened = (state: RegistryState) => Object.values(state.counters).reduce((a, b) => a + b, 0);

  /**
   * The alerts on the incident's timeline once `count` of them are there. Alerts for an open incident pass through
   * its alert stream (coalesced per fingerprint), so they reach the timeline a moment after the intake answers.
   */
  async function alertsOn(id: string, count: number) {
    return waitFor(async () => {
      const alerts = alertsOf(await env.incidents.timeline(id));
      return alerts.length >= count ? alerts : undefined;
    }, `${count} alerts on ${id}'s timeline`);
  }
  async function alertCount(id: string, count: number): Promise<number> {
    return (await alertsOn(id, count)).length;
  }

  it('opens one incident per Alertmanager groupKey, tracks alerts by fingerprint, ignores repeats, signals resolves', async () => {
    const groupKey = '{}:{alertname="HighErrorRate"}';
    const firing = alertmanagerPayload(groupKey, 'firing', [
      { instance: 'api-1', fingerprint: 'aaaa000000000001', severity: 'warning' },
      { instance: 'api-2', fingerprint: 'aaaa000000000002', severity: 'critical' },
    ]);
    const first = await http<{ incidentId: string; created: boolean; recorded: number; ignored: number }>(
      `${url}/intake/alertmanager`,
      {
        key: key.detector.key,
        body: firing,
      },
    );
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ status: 'ok', created: true, recorded: 2, ignored: 0 });
    const id = first.body.incidentId;
    const incident = await get(id);
    expect(incident).toMatchObject({ runbookId: 'web-outage', severity: 'P0', status: 'active' });
    expect(incident.title).toBe('HighErrorRate');
    expect(incident.timeline[0]).toMatchObject({ type: 'opened', trigger: 'alertmanager:detector-1' });
    expect((await alertsOn(id, 2)).map((a) => [a.fingerprint, a.status, a.source])).toEqual([
      ['aaaa000000000001', 'firing', 'alertmanager'],
      ['aaaa000000000002', 'firing', 'alertmanager'],
    ]);

    // Alertmanager repeats the group: nothing new on the timeline, no new incident.
    const before = opened(await registry());
    const repeat = await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: firing });
    expect(repeat.body).toMatchObject({ incidentId: id, created: false, recorded: 0, ignored: 2 });
    expect(await alertCount(id, 2)).toBe(2);

    // The group grows: only the new fingerprint is recorded.
    const grown = alertmanagerPayload(groupKey, 'firing', [
      { instance: 'api-1', fingerprint: 'aaaa000000000001' },
      { instance: 'api-2', fingerprint: 'aaaa000000000002' },
      { instance: 'api-3', fingerprint: 'aaaa000000000003' },
    ]);
    expect((await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: grown })).body).toMatchObject({
      incidentId: id,
      recorded: 1,
      ignored: 2,
    });

    // One alert resolves, then the whole group.
    const partly = alertmanagerPayload(groupKey, 'firing', [
      { instance: 'api-1', fingerprint: 'aaaa000000000001', status: 'resolved' },
      { instance: 'api-2', fingerprint: 'aaaa000000000002' },
      { instance: 'api-3', fingerprint: 'aaaa000000000003' },
    ]);
    expect((await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: partly })).body).toMatchObject({
      recorded: 1,
      ignored: 2,
    });
    const resolved = alertmanagerPayload(groupKey, 'resolved', [
      { instance: 'api-1', fingerprint: 'aaaa000000000001' },
      { instance: 'api-2', fingerprint: 'aaaa000000000002' },
      { instance: 'api-3', fingerprint: 'aaaa000000000003' },
    ]);
    const res = await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: resolved });
    expect(res.body).toMatchObject({ incidentId: id, created: false, recorded: 2, ignored: 1 });
    // And the resolved notification repeated changes nothing.
    expect((await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: resolved })).body).toMatchObject({
      recorded: 0,
      ignored: 3,
    });
    const alerts = await alertsOn(id, 6);
    expect(alerts.map((a) => `${a.fingerprint?.slice(-1)}:${a.status}`)).toEqual([
      '1:firing',
      '2:firing',
      '3:firing',
      '1:resolved',
      '2:resolved',
      '3:resolved',
    ]);
    expect(opened(await registry())).toBe(before);

    // A resolved group nobody opened an incident for opens nothing.
    const orphan = alertmanagerPayload(
      '{}:{alertname="Other"}',
      'resolved',
      [{ instance: 'x', fingerprint: 'bbbb000000000001' }],
      'Other',
    );
    const orphanRes = await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: orphan });
    expect(orphanRes.status).toBe(200);
    expect(orphanRes.body).toMatchObject({ created: false, recorded: 0, ignored: 1 });
    expect(orphanRes.body.incidentId).toBeUndefined();
    expect(opened(await registry())).toBe(before);

    // A payload that is not webhook v4.
    const v3 = await http(`${url}/intake/alertmanager`, { key: key.detector.key, body: { ...firing, version: '3' } });
    expect(v3.status).toBe(400);
    expect(String(v3.body.message)).toContain('body.version: expected an Alertmanager webhook payload of version "4"');
    expect(opened(await registry())).toBe(before);
  });

  it('gives the incident the labels of an Alertmanager group (first value wins) and puts each alert’s labels on the timeline', async () => {
    const groupKey = '{}:{alertname="CredentialStuffing"}';
    const payload = (alerts: { fingerprint: string; source_ip: string; user?: string }[]) => ({
      ...alertmanagerPayload(groupKey, 'firing', [], 'CredentialStuffing'),
      groupLabels: { alertname: 'CredentialStuffing', cluster: 'eu-1' },
      commonLabels: { alertname: 'CredentialStuffing', job: 'auth', endpoint: 'POST /login' },
      alerts: alerts.map((a) => ({
        status: 'firing',
        labels: {
          alertname: 'CredentialStuffing',
          job: 'auth',
          endpoint: 'POST /login',
          source_ip: a.source_ip,
          ...(a.user ? { user: a.user } : {}),
          severity: 'critical',
        },
        annotations: { summary: `logins failing from ${a.source_ip}` },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: a.fingerprint,
      })),
    });
    const first = await http<{ incidentId: string; created: boolean; recorded: number }>(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: payload([{ fingerprint: 'cccc000000000001', source_ip: '203.0.113.7' }]),
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ created: true });
    const id = first.body.incidentId;

    // Opened with commonLabels plus groupLabels; the first alert then adds its own labels.
    const opened = await waitFor(async () => {
      const incident = await get(id);
      return incident.alertLabels.source_ip !== undefined ? incident : undefined;
    }, `${id}: the first alert's labels merged`);
    expect(opened.alertSource).toBe('alertmanager');
    expect(opened.alertLabels).toEqual({
      alertname: 'CredentialStuffing',
      cluster: 'eu-1',
      job: 'auth',
      endpoint: 'POST /login',
      source_ip: '203.0.113.7',
      severity: 'critical',
    });

    // The group grows: the new alert adds `user`, but cannot change `source_ip`.
    const grown = await http(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: payload([
        { fingerprint: 'cccc000000000001', source_ip: '203.0.113.7' },
        { fingerprint: 'cccc000000000002', source_ip: '198.51.100.9', user: 'user-4711' },
      ]),
    });
    expect(grown.body).toMatchObject({ incidentId: id, created: false, recorded: 1, ignored: 1 });
    const merged = await waitFor(async () => {
      const incident = await get(id);
      return incident.alertLabels.user !== undefined ? incident : undefined;
    }, `${id}: the second alert's labels merged`);
    expect(merged.alertLabels).toMatchObject({ source_ip: '203.0.113.7', user: 'user-4711' });

    // Each alert event on the timeline carries that alert's own labels, the HTTP view and the workflow's alike.
    const alerts = merged.timeline.filter((e) => e.type === 'alert');
    expect(
      alerts.map((a) => [
        a.fingerprint,
        (a.labels as Record<string, string>).source_ip,
        (a.labels as Record<string, string>).user,
      ]),
    ).toEqual([
      ['cccc000000000001', '203.0.113.7', undefined],
      ['cccc000000000002', '198.51.100.9', 'user-4711'],
    ]);
    expect((await alertsOn(id, 2)).map((a) => a.labels?.source_ip)).toEqual(['203.0.113.7', '198.51.100.9']);

    // An operator opening by hand may name the targets too.
    const byHand = await http<{ incidentId: string }>(`${url}/incidents`, {
      key: key.operator.key,
      body: {
        title: 'brute force seen in the WAF',
        runbook: 'security-default',
        labels: { source_ip: '192.0.2.10' },
        source: 'waf',
      },
    });
    expect(byHand.status, byHand.text).toBe(201);
    expect(await get(byHand.body.incidentId)).toMatchObject({
      alertLabels: { source_ip: '192.0.2.10' },
      alertSource: 'waf',
    });
    const badLabels = await http(`${url}/incidents`, {
      key: key.operator.key,
      body: { title: 'x', runbook: 'security-default', labels: { port: 22 } },
    });
    expect(badLabels.status).toBe(400);
    expect(String(badLabels.body.message)).toMatch(/body\.labels\.port: expected a label value as text/);
  });

  it('takes PagerDuty Events API v2: trigger, acknowledge, resolve, with its reply shape and severities', async () => {
    const dedup = `db-01/replication-lag-${randomBytes(4).toString('hex')}`;
    const trigger = {
      routing_key: 'ignored-when-a-header-key-is-sent',
      event_action: 'trigger',
      dedup_key: dedup,
      payload: {
        summary: 'Replication lag above 10 minutes on db-01',
        source: 'db-01',
        severity: 'error',
        timestamp: new Date(Date.now() - 120_000).toISOString(),
        component: 'postgres',
        group: 'prod-db',
        class: 'replication',
        custom_details: { lag_seconds: 612, team: 'dba' },
      },
      client: 'Monitoring',
      client_url: 'https://monitoring.example/db-01',
    };
    const first = await http<{ status: string; message: string; dedup_key: string }>(`${url}/intake/pagerduty`, {
      key: others.pager.key,
      body: trigger,
    });
    expect(first.status, first.text).toBe(202);
    expect(Object.keys(first.body).sort()).toEqual(['dedup_key', 'message', 'status']);
    expect(first.body).toMatchObject({ status: 'success', dedup_key: dedup });
    const id = /(INC-\d{4}-\d+) opened/.exec(first.body.message)?.[1];
    expect(id, first.body.message).toBeDefined();
    const incident = await get(id!);
    expect(incident).toMatchObject({
      runbookId: 'db-incident',
      severity: 'P1',
      title: 'Replication lag above 10 minutes on db-01',
    });

    // Same dedup_key: same incident. The key may also come as routing_key (no header).
    const again = await http<{ message: string }>(`${url}/intake/pagerduty`, {
      body: { ...trigger, routing_key: others.pager.key, payload: { ...trigger.payload, severity: 'critical' } },
    });
    expect(again.status, again.text).toBe(202);
    expect(again.body.message).toBe(`Event processed: ${id}`);

    // Acknowledging needs a key configured for it, and reaches only that key's own incidents.
    const acknowledge = { routing_key: 'x', event_action: 'acknowledge', dedup_key: dedup };
    const notAllowed = await http(`${url}/intake/pagerduty`, { key: key.detector.key, body: acknowledge });
    expect(notAllowed.status).toBe(403);
    expect(String(notAllowed.body.message)).toMatch(/may not acknowledge incidents; .*--acknowledges/);
    const otherSender = await http<{ message: string }>(`${url}/intake/pagerduty`, {
      key: others.b.key,
      body: acknowledge,
    });
    expect(otherSender.status).toBe(202);
    expect(otherSender.body.message).toBe('Event processed: no open incident has this dedup_key');
    expect((await get(id!)).acknowledgedBy).toBeUndefined();
    const ack = await http<{ message: string }>(`${url}/intake/pagerduty`, {
      key: others.pager.key,
      body: acknowledge,
    });
    expect(ack.status).toBe(202);
    expect(ack.body.message).toBe(`Event processed: ${id} acknowledged`);
    expect((await get(id!)).acknowledgedBy).toBe('pager-1');
    const resolve = await http(`${url}/intake/pagerduty`, {
      key: others.pager.key,
      body: { event_action: 'resolve', dedup_key: dedup },
    });
    expect(resolve.status).toBe(202);
    // The repeated trigger is coalesced into its fingerprint (counted, not a second timeline entry).
    const alerts = await alertsOn(id!, 2);
    expect(alerts.map((a) => [a.status, a.source, a.fingerprint])).toEqual([
      ['firing', 'db-01', dedup],
      ['resolved', 'pagerduty', dedup],
    ]);
    const book = await waitFor(async () => {
      const b = await env.incidents.alertBook(id!);
      return b && b.counts.total >= 3 ? b : undefined;
    }, 'three alerts counted');
    expect(book.counts).toMatchObject({ total: 3, firing: 2, resolved: 1, fingerprints: 1 });

    // Without dedup_key a trigger gets one made up, returned as PagerDuty does.
    const fresh = await http<{ dedup_key: string }>(`${url}/intake/pagerduty`, {
      key: key.detector.key,
      body: { event_action: 'trigger', payload: { summary: 'disk failing', source: 'host-9', severity: 'info' } },
    });
    expect(fresh.status).toBe(202);
    expect(fresh.body.dedup_key).toMatch(/^[0-9a-f-]{36}$/);

    const before = opened(await registry());
    const bad: [unknown, number, RegExp][] = [
      [{ event_action: 'trigger', dedup_key: 'x' }, 400, /body\.payload: a trigger event needs a payload/],
      [{ event_action: 'resolve' }, 400, /body\.dedup_key: an resolve event needs the dedup_key/],
      [
        { event_action: 'explode', dedup_key: 'x' },
        400,
        /body\.event_action: expected event_action trigger, acknowledge or resolve/,
      ],
      [
        { event_action: 'trigger', payload: { summary: 's', source: 's', severity: 'fatal' } },
        400,
        /body\.payload\.severity: expected payload\.severity critical, error, warning or info/,
      ],
    ];
    for (const [body, status, message] of bad) {
      const res = await http(`${url}/intake/pagerduty`, { key: key.detector.key, body });
      expect(res.status, res.text).toBe(status);
      expect(String(res.body.message)).toMatch(message);
      expect(isCleanError(res.body)).toBe(true);
    }
    const noKey = await http(`${url}/intake/pagerduty`, {
      body: { event_action: 'trigger', payload: trigger.payload },
    });
    expect(noKey.status).toBe(401);
    expect(String(noKey.body.message)).toMatch(/or put it in the body's routing_key/);
    const badKey = await http(`${url}/intake/pagerduty`, {
      body: { ...trigger, routing_key: 'R0UT1NGKEY0000000000000000000000' },
    });
    expect(badKey.status).toBe(401);
    expect(String(badKey.body.message)).toMatch(/routing_key: the API key is not valid/);
    const viewerKey = await http(`${url}/intake/pagerduty`, { body: { ...trigger, routing_key: key.viewer.key } });
    expect(viewerKey.status).toBe(403);
    expect(opened(await registry())).toBe(before);
  });

  it('fits what senders do not bound instead of losing it: PagerDuty custom_details past the label limits, an Alertmanager group of 201 alerts with a long annotation', async () => {
    // 70 plain details and one 1,500-character value: a sender that is refused does not retry.
    const dedup = `checkout-npe-${randomBytes(4).toString('hex')}`;
    const details = {
      exception: 'x'.repeat(1_500),
      ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`m${i}`, i])),
      event_type: 'data_corruption',
    };
    const trigger = {
      event_action: 'trigger',
      dedup_key: dedup,
      payload: { summary: 'NPE in checkout', source: 'app-01', severity: 'critical', custom_details: details },
    };
    const first = await http<{ message: string }>(`${url}/intake/pagerduty`, { key: others.pager.key, body: trigger });
    expect(first.status, first.text).toBe(202);
    const id = /(INC-\d{4}-\d+) opened/.exec(first.body.message)?.[1];
    expect(id, first.body.message).toBeDefined();
    const incident = await get(id!);
    expect(Object.keys(incident.alertLabels)).toHaveLength(64);
    expect(incident.alertLabels).toMatchObject({ source: 'app-01', severity: 'critical' });
    expect(incident.alertLabels.exception).toBe(`${'x'.repeat(1_023)}…`);
    // The event type, last of 72 details, is kept: it chose the runbook.
    expect(incident).toMatchObject({ eventType: 'data_corruption', runbookId: 'db-incident' });
    // A resolve carrying the same details joins the incident and is on its timeline.
    const resolve = await http(`${url}/intake/pagerduty`, {
      key: others.pager.key,
      body: { ...trigger, event_action: 'resolve' },
    });
    expect(resolve.status, resolve.text).toBe(202);
    expect((await alertsOn(id!, 2)).map((a) => a.status)).toEqual(['firing', 'resolved']);

    // A fleet-wide outage: 201 alerts in one group, one with a 2,000-character description (annotations are text).
    const groupKey = `{}:{alertname="NodeDown",run="${randomBytes(4).toString('hex')}"}`;
    const group = alertmanagerPayload(
      groupKey,
      'firing',
      Array.from({ length: 201 }, (_, i) => ({
        instance: `node-${i}`,
        fingerprint: `dddd${String(i).padStart(12, '0')}`,
      })),
      'NodeDown',
    );
    (group.alerts as { annotations: Record<string, string> }[])[0]!.annotations.description = 'd'.repeat(2_000);
    const taken = await http<{ incidentId: string; created: boolean; recorded: number }>(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: group,
    });
    expect(taken.status, taken.text).toBe(200);
    expect(taken.body).toMatchObject({ created: true, recorded: 201 });
    const book = await waitFor(async () => {
      const b = await env.incidents.alertBook(taken.body.incidentId);
      return b && b.counts.total === 201 ? b : undefined;
    }, 'all 201 alerts counted');
    expect(book.counts).toMatchObject({ total: 201, firing: 201, fingerprints: 201 });
  });

  it('takes generic alerts; runbooks are chosen by match rules, by name, or the default', async () => {
    const byLabel = await http<{ incidentId: string; created: boolean; dedupKey: string }>(`${url}/intake/alerts`, {
      key: key.detector.key,
      body: { source: 'cron-check', title: 'backup verification failed', labels: { team: 'dba' }, severity: 'Medium' },
    });
    expect(byLabel.status, byLabel.text).toBe(202);
    expect(byLabel.body.created).toBe(true);
    expect(byLabel.body.dedupKey).toMatch(/^cron-check:[0-9a-f]{16}$/);
    expect(await get(byLabel.body.incidentId)).toMatchObject({ runbookId: 'db-incident', severity: 'P2' });

    const fallback = await http<{ incidentId: string; runbook: unknown }>(`${url}/intake/alerts`, {
      key: key.commander.key,
      body: {
        source: 'siem',
        title: 'impossible travel for admin',
        eventType: 'unauthorized_access',
        fingerprint: 'u-42',
      },
    });
    expect(fallback.status).toBe(202);
    expect(fallback.body).toMatchObject({ runbook: { id: 'triage', reason: expect.stringMatching(/no match rule/) } });
    expect(await get(fallback.body.incidentId)).toMatchObject({ runbookId: 'triage', severity: 'P1' });
    expect(
      (
        await http(`${url}/intake/alerts`, {
          key: key.commander.key,
          body: { source: 'siem', title: 'again', fingerprint: 'u-42' },
        })
      ).body,
    ).toMatchObject({
      incidentId: fallback.body.incidentId,
      created: false,
      dedupKey: 'siem:u-42',
    });

    // The default is configurable: a server with api.defaultRunbook gives unmatched alerts that runbook instead.
    const configured = await env.startAnotherApi({ defaultRunbook: 'security-default' });
    const byDefault = await http<{ incidentId: string; runbook: unknown }>(`${configured.url}/intake/alerts`, {
      key: key.detector.key,
      body: { source: 'siem', title: 'odd login pattern', fingerprint: `d-${Date.now()}` },
    });
    expect(byDefault.status, byDefault.text).toBe(202);
    expect(byDefault.body.runbook).toEqual({ id: 'security-default', reason: 'default runbook' });

    // An alert naming a runbook that does not exist is not lost: the match rules (here: triage) take it, saying why.
    const misnamed = await http<{ incidentId: string; runbook: { id: string; reason: string } }>(
      `${url}/intake/alerts`,
      { key: key.detector.key, body: { source: 'waf', title: 'x', runbook: 'nope', dedupKey: `nope-${Date.now()}` } },
    );
    expect(misnamed.status, misnamed.text).toBe(202);
    expect(misnamed.body.runbook.id).toBe('triage');
    expect(misnamed.body.runbook.reason).toMatch(/names runbook "nope", which does not exist; triage runbook/);

    const named = await http<{ incidentId: string }>(`${url}/intake/alerts`, {
      key: key.detector.key,
      body: { source: 'waf', title: 'outage by hand', runbook: 'web-outage', dedupKey: `named-${Date.now()}` },
    });
    expect(await get(named.body.incidentId)).toMatchObject({ runbookId: 'web-outage' });

    const before = opened(await registry());
    const cases: [unknown, number, string, RegExp][] = [
      [{ source: 'waf' }, 400, 'invalid_request', /body\.title/],
      [
        { source: 'waf', title: 'x', severity: 'urgent' },
        400,
        'invalid_request',
        /body\.severity: expected a severity/,
      ],
      [{ source: 'waf', title: 'x', labels: { a: 1 } }, 400, 'invalid_request', /body\.labels\.a/],
      [{ source: 'waf', title: 'x', colour: 'red' }, 400, 'invalid_request', /Unrecognized key: "colour"/],
      ['{"source": "waf", "title": ', 400, 'malformed_json', /not valid JSON/],
      [
        JSON.stringify({ source: 'waf', title: 'x'.repeat(1_100_000) }),
        413,
        'body_too_large',
        /larger than the limit of 1048576 bytes/,
      ],
    ];
    for (const [body, status, error, message] of cases) {
      const res = await http(`${url}/intake/alerts`, { key: key.detector.key, body });
      expect(res.status, res.text.slice(0, 300)).toBe(status);
      expect(res.body).toMatchObject({ error });
      expect(String(res.body.message)).toMatch(message);
      expect(isCleanError(res.body)).toBe(true);
    }
    expect(opened(await registry())).toBe(before);
  });

  it(`opens exactly one incident for a storm of ${STORM} concurrent identical alerts, every alert counted`, async () => {
    // Two API processes' worth of state (caches), so dedup across them rests on the registry alone.
    const second = await env.startAnotherApi();
    const before = await registry();
    const alert = {
      source: 'waf',
      title: 'SQL injection attempts from 198.51.100.0/24',
      labels: { rule: 'sqli' },
      dedupKey: 'storm-1',
      severity: 'P2',
    };
    const replies = await Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        http<{ incidentId: string; created: boolean }>(`${i % 2 === 0 ? url : second.url}/intake/alerts`, {
          key: key.detector.key,
          body: alert,
        }),
      ),
    );
    const statuses = [...new Set(replies.map((r) => r.status))];
    expect(statuses, replies.find((r) => r.status !== 202)?.text).toEqual([202]);
    const ids = new Set(replies.map((r) => r.body.incidentId));
    expect(ids.size).toBe(1);
    expect(replies.filter((r) => r.body.created)).toHaveLength(1);
    const [id] = [...ids] as [string];

    const after = await registry();
    expect(opened(after)).toBe(opened(before) + 1);
    expect(after.openByDedupKey['generic:detector-1:storm-1']).toBe(id);
    // The opening alert plus every other one through the alert stream, counted exactly; identical alerts share one
    // fingerprint, so the timeline holds it once.
    const book = await waitFor(async () => {
      const b = await env.incidents.alertBook(id);
      return b && b.counts.total >= STORM ? b : undefined;
    }, `${STORM} alerts counted for ${id}`);
    expect(book.counts).toMatchObject({ total: STORM, firing: STORM, fingerprints: 1 });
    expect((await alertsOn(id, 1)).length).toBe(1);

    const viewer = { key: env.keys.viewer.key };
    const metrics = (await http(`${url}/metrics`, viewer)).text + (await http(`${second.url}/metrics`, viewer)).text;
    const sum = (name: string) =>
      [...metrics.matchAll(new RegExp(`^${name}\\{format="generic"\\} (\\d+)`, 'gm'))].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    expect(sum('incident_api_alerts_received_total')).toBeGreaterThanOrEqual(STORM);
    expect(sum('incident_api_alerts_deduplicated_total')).toBeGreaterThanOrEqual(STORM - 1);
    await second.close();
  }, 180_000);

  it('records the alerts an incident opens with at its opening: no alert stream until a later alert, which counts them first', async () => {
    const streamExists = async (id: string) =>
      env.client.workflow
        .getHandle(alertStreamId(id))
        .describe()
        .then(
          () => true,
          (error: unknown) => {
            if (error instanceof WorkflowNotFoundError) return false;
            throw error;
          },
        );
    const alert = { source: 'waf', title: 'Credential stuffing', fingerprint: 'cs-1', dedupKey: 'opening-1' };
    const first = await http<{ incidentId: string; created: boolean }>(`${url}/intake/alerts`, {
      key: key.detector.key,
      body: alert,
    });
    expect(first.status, first.text).toBe(202);
    expect(first.body).toMatchObject({ created: true });
    const id = first.body.incidentId;
    // On the timeline and counted as the incident answers its first read, with no stream behind it.
    const opened = await get(id);
    expect(opened.timeline.filter((e) => e.type === 'alert').map((a) => a.fingerprint)).toEqual(['cs-1']);
    expect(opened.alertCounts).toMatchObject({ total: 1, fingerprints: 1 });
    expect(await streamExists(id)).toBe(false);

    // A repeat and a new fingerprint: the stream they start knows cs-1 already, so only cs-2 is news.
    for (const fingerprint of ['cs-1', 'cs-2']) {
      const later = await http(`${url}/intake/alerts`, { key: key.detector.key, body: { ...alert, fingerprint } });
      expect(later.status, later.text).toBe(202);
    }
    const book = await waitFor(async () => {
      const b = await env.incidents.alertBook(id);
      return b && b.counts.total >= 3 ? b : undefined;
    }, `3 alerts counted for ${id}`);
    expect(book.counts).toMatchObject({ total: 3, fingerprints: 2 });
    expect((await alertsOn(id, 2)).map((a) => a.fingerprint)).toEqual(['cs-1', 'cs-2']);
    await waitFor(async () => {
      const { alertCounts } = await get(id);
      return alertCounts?.total === 3 ? alertCounts : undefined;
    }, `the incident's counts at 3`);

    // A group past the opening bound (MAX_OPENING_ALERTS): the first go with the open, the rest through the stream, in order.
    const size = MAX_OPENING_ALERTS + 5;
    const fingerprints = Array.from({ length: size }, (_, i) => `bbbb${String(i).padStart(12, '0')}`);
    const group = await http<{ incidentId: string; created: boolean; recorded: number }>(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: alertmanagerPayload(
        '{}:{alertname="OpeningBound"}',
        'firing',
        fingerprints.map((fingerprint, i) => ({ instance: `api-${i}`, fingerprint })),
        'OpeningBound',
      ),
    });
    expect(group.body).toMatchObject({ created: true, recorded: size });
    expect((await alertsOn(group.body.incidentId, size)).map((a) => a.fingerprint)).toEqual(fingerprints);
    const groupBook = await waitFor(async () => {
      const b = await env.incidents.alertBook(group.body.incidentId);
      return b && b.counts.total >= size ? b : undefined;
    }, `${size} alerts counted`);
    expect(groupBook.counts).toMatchObject({ total: size, fingerprints: size });
  }, 60_000);

  it('opens a triage incident for an Alertmanager group no runbook matches, answered 200 with the runbook named', async () => {
    const groupKey = `{}:{alertname="ApiUnreachable-${Date.now()}"}`;
    const payload = alertmanagerPayload(
      groupKey,
      'firing',
      [{ instance: 'edge-1', fingerprint: 'dddd000000000001', severity: 'warning' }],
      'ApiUnreachable',
    );
    // A DoS the alert says made the system unavailable: P0 by the FailSafe-Qore procedures, though its severity label
    // says warning and the Fiovana table alone would say Low.
    payload.commonLabels = { ...payload.commonLabels, event_type: 'dos', impact: 'unavailable' };
    const res = await http<{ incidentId: string; created: boolean; runbook: { id: string; reason: string } }>(
      `${url}/intake/alertmanager`,
      { key: key.detector.key, body: payload },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ created: true, runbook: { id: 'triage' } });
    expect(res.body.runbook.reason).toMatch(/no match rule selected the alert/);
    expect(await get(res.body.incidentId)).toMatchObject({ runbookId: 'triage', severity: 'P0', status: 'active' });

    const degraded = alertmanagerPayload(
      `{}:{alertname="ApiSlow-${Date.now()}"}`,
      'firing',
      [{ instance: 'edge-2', fingerprint: 'dddd000000000002', severity: 'info' }],
      'ApiSlow',
    );
    degraded.commonLabels = { ...degraded.commonLabels, event_type: 'dos', impact: 'significant degradation' };
    const slow = await http<{ incidentId: string }>(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: degraded,
    });
    expect(slow.status, slow.text).toBe(200);
    expect(await get(slow.body.incidentId)).toMatchObject({ severity: 'P1' });
  });

  it("keeps detectors apart: naming another sender's dedup key opens a new incident and leaves the other untouched", async () => {
    // Detector A's Alertmanager incident and generic incident.
    const groupKey = `{}:{alertname="HighErrorRate",scope="${Date.now()}"}`;
    const am = await http<{ incidentId: string }>(`${url}/intake/alertmanager`, {
      key: key.detector.key,
      body: alertmanagerPayload(groupKey, 'firing', [{ instance: 'api-9', fingerprint: 'eeee000000000001' }]),
    });
    expect(am.status, am.text).toBe(200);
    const sharedKey = `shared-${Date.now()}`;
    const generic = await http<{ incidentId: string }>(`${url}/intake/alerts`, {
      key: key.detector.key,
      body: { source: 'waf', title: 'probe', dedupKey: sharedKey, labels: { rule: 'probe' } },
    });
    expect(generic.status, generic.text).toBe(202);
    const targets = [am.body.incidentId, generic.body.incidentId];
    const snapshot = async () =>
      Promise.all(
        targets.map(async (id) => {
          const i = await get(id);
          return { labels: i.alertLabels, alerts: await alertCount(id, 1), acknowledgedBy: i.acknowledgedBy };
        }),
      );
    const before = await snapshot();

    // Detector B names A's keys every way it could: scoped, the old unscoped form, raw; and sends A's very group.
    const attempts: [string, unknown][] = [
      ...[
        `alertmanager:detector-1:${groupKey}`,
        `alertmanager:${groupKey}`,
        groupKey,
        `generic:detector-1:${sharedKey}`,
        sharedKey,
      ].map((dedupKey): [string, unknown] => [
        '/intake/alerts',
        { source: 'waf', title: 'hijack', dedupKey, labels: { user: 'admin', source_ip: '0.0.0.0/0' } },
      ]),
      ['/intake/alertmanager', alertmanagerPayload(groupKey, 'firing', [{ instance: 'x', fingerprint: 'ffff0001' }])],
    ];
    for (const [route, body] of attempts) {
      const res = await http<{ incidentId: string; created: boolean }>(`${url}${route}`, { key: others.b.key, body });
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.body.created, JSON.stringify(body)).toBe(true);
      expect(targets).not.toContain(res.body.incidentId);
    }
    // An operator may not open an incident under a detector's scoped key either (its alerts would join it).
    for (const format of ['generic', 'alertmanager', 'pagerduty']) {
      const claimed = await http<{ message: string }>(`${url}/incidents`, {
        key: key.operator.key,
        body: { title: 'claim', runbook: 'security-default', dedupKey: `${format}:detector-1:${sharedKey}` },
      });
      expect(claimed.status, claimed.text).toBe(400);
      expect(claimed.body.message).toContain(`body.dedupKey: "${format}:..." is the ${format} intake's namespace`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('opens a recurrence for the key of an incident resolved and closed within its enhanced-monitoring window', async () => {
    const dedupKey = `recur-${Date.now()}`;
    const alert = (fingerprint: string) =>
      http<{ incidentId: string; created: boolean; recurrenceOf?: { incidentId: string; resolvedAt: number } }>(
        `${url}/intake/alerts`,
        {
          key: key.detector.key,
          body: { source: 'prometheus', title: 'checkout 5xx', runbook: 'web-outage', dedupKey, fingerprint },
        },
      );
    const first = await alert('f-1');
    expect(first.status, first.text).toBe(202);
    expect(first.body.created).toBe(true);
    expect(first.body.recurrenceOf).toBeUndefined();
    const id = first.body.incidentId;
    const step = async (path: string, body: Record<string, unknown>) => {
      const res = await http(`${url}/incidents/${id}/${path}`, { key: key.commander.key, body });
      expect(res.status, res.text).toBe(200);
    };
    await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'eradicate' ? s : undefined;
    }, `${id} contained`);
    await step('resolve', { summary: 'rolled back the release' });
    await waitFor(async () => {
      const s = await get(id);
      return s.phase === 'post-incident' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in post-incident`);
    await step('advance-phase', { note: 'review done' });
    const closed = await waitFor(async () => {
      const s = await get(id);
      return s.status === 'closed' ? s : undefined;
    }, `${id} closed`);

    // A closing incident tells the registry last (an alert before that is answered 503, retry): wait for it.
    await waitFor(
      async () => ((await registry()).recentlyClosed ?? []).find((e) => e.incidentId === id),
      `${id} remembered by the registry`,
    );
    // The same alert again: a new incident, linked to the one just closed, paged at L1.
    const again = await alert('f-1');
    expect(again.status, again.text).toBe(202);
    expect(again.body.created).toBe(true);
    expect(again.body.incidentId).not.toBe(id);
    expect(again.body.recurrenceOf).toEqual({ incidentId: id, resolvedAt: closed.resolvedAt });
    const recurrence = await get(again.body.incidentId);
    expect(recurrence.recurrenceOf).toEqual({ incidentId: id, resolvedAt: closed.resolvedAt });
    expect(recurrence.escalation.level).toBeGreaterThanOrEqual(1);
    expect(recurrence.timeline.find((e) => e.type === 'recurrence_of')).toMatchObject({ previousIncidentId: id });
    expect(recurrence.timeline.find((e) => e.type === 'escalated')).toMatchObject({ toLevel: 1 });
  });

  it('opens a new incident for the key of one terminated outside the engine, in this API and in a fresh one', async () => {
    const dedupKey = `terminated-${Date.now()}`;
    const send = (base: string) =>
      http<{ incidentId: string; created: boolean }>(`${base}/intake/alerts`, {
        key: key.detector.key,
        body: { source: 'waf', title: 'probe', dedupKey, fingerprint: `f-${randomBytes(4).toString('hex')}` },
      });
    const first = await send(url);
    expect(first.status, first.text).toBe(202);
    expect((await send(url)).body).toMatchObject({ incidentId: first.body.incidentId, created: false });

    await env.client.workflow.getHandle(first.body.incidentId).terminate('operator ended it by hand');
    // This API cached the key: it checks again after RECHECK_MS and opens a new incident.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await send(url);
    expect(second.status, second.text).toBe(202);
    expect(second.body.created).toBe(true);
    expect(second.body.incidentId).not.toBe(first.body.incidentId);
    // Ended, not resolved: not a recurrence.
    expect(second.body).not.toHaveProperty('recurrenceOf');
    expect(await alertCount(second.body.incidentId, 1)).toBe(1);
    expect((await registry()).openByDedupKey[`generic:detector-1:${dedupKey}`]).toBe(second.body.incidentId);

    // A fresh API process has never seen the key: it checks at once.
    await env.client.workflow.getHandle(second.body.incidentId).terminate('again');
    const other = await env.startAnotherApi({});
    const third = await send(other.url);
    expect(third.status, third.text).toBe(202);
    expect(third.body.created).toBe(true);
    expect([first.body.incidentId, second.body.incidentId]).not.toContain(third.body.incidentId);
  });

  it('checks HMAC signatures: refuses missing, wrong, stale and replayed ones, and changes nothing', async () => {
    const secret = key.signer.signingSecret!;
    const body = JSON.stringify({
      source: 'edr',
      title: 'ransomware note found',
      dedupKey: `signed-${Date.now()}`,
      severity: 'P1',
    });
    const sign = (b: string, ts = Math.floor(Date.now() / 1000), nonce = randomBytes(16).toString('hex')) => ({
      'x-incident-timestamp': String(ts),
      'x-incident-nonce': nonce,
      'x-incident-signature': signPayload(secret, ts, nonce, b),
    });
    const post = (headers: Record<string, string>, b = body) =>
      http(`${url}/intake/alerts`, { key: key.signer.key, body: b, headers });
    const before = opened(await registry());

    const refusals: [string, Record<string, string>, string, RegExp][] = [
      [
        'unsigned',
        {},
        'signature_required',
        /expected the header\(s\) x-incident-signature, x-incident-timestamp, x-incident-nonce/,
      ],
      [
        'wrong signature',
        { ...sign(body), 'x-incident-signature': `sha256=${'0'.repeat(64)}` },
        'bad_signature',
        /does not match/,
      ],
      ['signed another body', sign(body.replace('ransomware', 'harmless')), 'bad_signature', /does not match/],
      [
        'signed with another secret',
        (() => {
          const ts = Math.floor(Date.now() / 1000);
          const nonce = randomBytes(16).toString('hex');
          return {
            'x-incident-timestamp': String(ts),
            'x-incident-nonce': nonce,
            'x-incident-signature': signPayload('not-the-secret-'.repeat(3), ts, nonce, body),
          };
        })(),
        'bad_signature',
        /does not match/,
      ],
      [
        'stale timestamp',
        sign(body, Math.floor(Date.now() / 1000) - 600),
        'stale_timestamp',
        /is 60[01] s away from the server's clock; at most 300 s is accepted/,
      ],
      ['future timestamp', sign(body, Math.floor(Date.now() / 1000) + 900), 'stale_timestamp', /at most 300 s/],
      ['bad timestamp', { ...sign(body), 'x-incident-timestamp': 'yesterday' }, 'bad_timestamp', /whole seconds/],
      ['short nonce', sign(body, undefined, 'abc'), 'bad_nonce', /16-128/],
    ];
    for (const [what, headers, error, message] of refusals) {
      const res = await post(headers);
      expect(res.status, `${what}: ${res.text}`).toBe(401);
      expect(res.body, what).toMatchObject({ error });
      expect(String(res.body.message), what).toMatch(message);
      expect(isCleanError(res.body)).toBe(true);
    }
    expect(opened(await registry())).toBe(before);

    const headers = sign(body);
    const ok = await post(headers);
    expect(ok.status, ok.text).toBe(202);
    const id = ok.body.incidentId as string;
    expect(await alertCount(id, 1)).toBe(1);
    const replay = await post(headers);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'replayed_nonce' });
    expect(String(replay.body.message)).toContain(`nonce ${headers['x-incident-nonce']} was already used`);
    expect(await alertCount(id, 1)).toBe(1);
    expect(opened(await registry())).toBe(before + 1);

    // A key without a signing secret needs no signature; its alerts are its own (same dedupKey, its own incident).
    const plain = await http(`${url}/intake/alerts`, { key: key.detector.key, body: JSON.parse(body) });
    expect(plain.status).toBe(202);
    expect(plain.body).toMatchObject({ created: true });
    expect(plain.body.incidentId).not.toBe(id);
    expect(await alertCount(id, 1)).toBe(1);
  });

  describe('with a real Alertmanager', () => {
    const present = existsSync(ALERTMANAGER);
    let am: ChildProcess | undefined;
    let amOutput = '';

    afterAll(async () => {
      if (am && am.exitCode === null) {
        const exited = new Promise((r) => am!.once('exit', r));
        am.kill('SIGTERM');
        await exited;
      }
    });

    it.skipIf(!present)(
      `groups alerts fired through its API into one incident and signals their resolve${present ? '' : ` (skipped: ${ALERTMANAGER} is not installed; apt-get install prometheus-alertmanager)`}`,
      async () => {
        const dir = tempDir('alertmanager');
        const [port, clusterPort] = [await freePort(), await freePort()];
        const config = [
          'route:',
          '  receiver: incident-engine',
          "  group_by: ['alertname']",
          '  group_wait: 1s',
          '  group_interval: 1s',
          '  repeat_interval: 1h',
          '  routes:',
          `    - matchers: ['alertname="${CAPPED}"']`,
          '      receiver: incident-engine-capped',
          'receivers:',
          ...[
            ['incident-engine', []],
            ['incident-engine-capped', ['        max_alerts: 1']],
          ].flatMap(([name, extra]) => [
            `  - name: ${name as string}`,
            '    webhook_configs:',
            `      - url: ${url}/intake/alertmanager`,
            '        send_resolved: true',
            ...(extra as string[]),
            '        http_config:',
            '          authorization:',
            '            type: Bearer',
            `            credentials: ${key.detector.key}`,
          ]),
          '',
        ].join('\n');
        await mkdir(path.join(dir, 'data'), { recursive: true });
        await writeFile(path.join(dir, 'alertmanager.yml'), config);
        am = spawn(
          ALERTMANAGER,
          [
            `--config.file=${path.join(dir, 'alertmanager.yml')}`,
            `--storage.path=${path.join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
            `--cluster.listen-address=127.0.0.1:${clusterPort}`,
            '--cluster.peer-timeout=1s',
            '--log.level=warn',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        am.stdout?.on('data', (c: Buffer) => (amOutput = (amOutput + c.toString()).slice(-4_000)));
        am.stderr?.on('data', (c: Buffer) => (amOutput = (amOutput + c.toString()).slice(-4_000)));
        const amUrl = `http://127.0.0.1:${port}`;
        await waitFor(
          async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined),
          `Alertmanager ready (output: ${amOutput})`,
          { timeoutMs: 30_000 },
        );

        const alertname = 'DiskFull';
        const fire = (endsAt?: string) =>
          fetch(`${amUrl}/api/v2/alerts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(
              ['db-1', 'db-2'].map((instance) => ({
                labels: { alertname, instance, job: 'node', severity: 'critical' },
                annotations: { summary: `disk 97% full on ${instance}` },
                startsAt: new Date(Date.now() - 30_000).toISOString(),
                ...(endsAt ? { endsAt } : {}),
                generatorURL: 'http://prometheus.example/graph',
              })),
            ),
          });
        const before = opened(await registry());
        expect((await fire()).status).toBe(200);

        const groupKey = `alertmanager:detector-1:{}:{alertname="${alertname}"}`;
        const id = await waitFor(
          async () => (await registry()).openByDedupKey[groupKey],
          `an incident for ${groupKey} (Alertmanager output: ${amOutput})`,
          {
            timeoutMs: 30_000,
          },
        );
        const firing = await waitFor(async () => {
          const alerts = alertsOf(await env.incidents.timeline(id));
          return alerts.filter((a) => a.status === 'firing').length >= 2 ? alerts : undefined;
        }, 'both alerts firing on the timeline');
        expect(new Set(firing.map((a) => a.fingerprint)).size).toBe(2);
        expect(firing.every((a) => a.source === 'alertmanager')).toBe(true);
        const incident = await get(id);
        expect(incident).toMatchObject({ runbookId: 'web-outage', severity: 'P0' });
        expect(incident.title).toContain(alertname);

        // Resolve both through Alertmanager's API: it sends the resolved group to the intake.
        expect((await fire(new Date().toISOString())).status).toBe(200);
        const all = await waitFor(
          async () => {
            const alerts = alertsOf(await env.incidents.timeline(id));
            return alerts.filter((a) => a.status === 'resolved').length >= 2 ? alerts : undefined;
          },
          `both alerts resolved on the timeline (Alertmanager output: ${amOutput})`,
          { timeoutMs: 30_000 },
        );
        const byFingerprint = new Map<string, string[]>();
        for (const a of all)
          byFingerprint.set(a.fingerprint!, [...(byFingerprint.get(a.fingerprint!) ?? []), a.status]);
        expect([...byFingerprint.values()]).toEqual([
          ['firing', 'resolved'],
          ['firing', 'resolved'],
        ]);
        expect(opened(await registry())).toBe(before + 1);

        // A group no runbook matches: Alertmanager's delivery is taken (2xx, nothing to retry) by the triage runbook.
        const unmatched = 'NoRunbookMatchesThis';
        const sent = await fetch(`${amUrl}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            {
              labels: { alertname: unmatched, instance: 'edge-7', job: 'edge', severity: 'warning' },
              annotations: { summary: 'something nobody wrote a runbook for' },
              startsAt: new Date(Date.now() - 30_000).toISOString(),
            },
          ]),
        });
        expect(sent.status).toBe(200);
        const triageId = await waitFor(
          async () => (await registry()).openByDedupKey[`alertmanager:detector-1:{}:{alertname="${unmatched}"}`],
          `a triage incident for ${unmatched} (Alertmanager output: ${amOutput})`,
          { timeoutMs: 30_000 },
        );
        expect(await get(triageId)).toMatchObject({ runbookId: 'triage', status: 'active' });

        // A receiver capped at one alert (max_alerts): the two alerts Alertmanager left out reach the timeline as one
        // alert naming how many, beside the one it sent.
        const capped = await fetch(`${amUrl}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            ['web-1', 'web-2', 'web-3'].map((instance) => ({
              labels: { alertname: CAPPED, instance, job: 'node', severity: 'warning' },
              annotations: { summary: `5xx burst on ${instance}` },
              startsAt: new Date(Date.now() - 30_000).toISOString(),
            })),
          ),
        });
        expect(capped.status).toBe(200);
        const cappedId = await waitFor(
          // The group key of a child route starts with that route's matchers.
          async () =>
            Object.entries((await registry()).openByDedupKey).find(([dedupKey]) => dedupKey.includes(CAPPED))?.[1],
          `an incident for ${CAPPED} (Alertmanager output: ${amOutput})`,
          { timeoutMs: 30_000 },
        );
        const cappedAlerts = await waitFor(async () => {
          const alerts = alertsOf(await env.incidents.timeline(cappedId));
          return alerts.length >= 2 ? alerts : undefined;
        }, 'the sent alert and the count of those left out');
        expect(cappedAlerts.map((a) => a.summary)).toEqual([
          expect.stringMatching(/^5xx burst on web-\d$/),
          'Alertmanager left 2 more alerts of this group out of its notification (max_alerts)',
        ]);
        expect(cappedAlerts[1]!.labels).toEqual({ alertmanager_truncated_alerts: '2' });

        // A 4xx would have made Alertmanager drop the group as unrecoverable.
        expect(amOutput).not.toMatch(/unrecoverable/i);
      },
      90_000,
    );
  });
});
