// Alert labels in runbooks, without a server: which `${alert.…}` template paths the loader accepts and how it refuses
// the others; parameters filled from a label checked when the step runs; the message of a step whose label is
// missing; `when: { labels: ... }` (grammar, evaluation, reasons); how an incident merges labels (first value wins);
// and what each intake format hands the incident when it opens it.
import { describe, expect, it } from 'vitest';
import { alertmanagerEvent, AlertmanagerWebhook } from '../../src/api/intake/alertmanager';
import { AlertIntake } from '../../src/api/intake/dispatch';
import { genericEvent, GenericAlert } from '../../src/api/intake/generic';
import { PagerDutyEvent, pagerDutyEvent } from '../../src/api/intake/pagerduty';
import type { IncidentClient } from '../../src/client';
import { compileRunbook } from '../../src/runbooks/load';
import { type Condition, type StepFacts, evaluateCondition } from '../../domain/condition';
import { MAX_ALERT_LABELS, PHASES, mergeAlertLabels } from '../../domain/incident';
import { type AlertSignalInput, OpenRequest } from '../../domain/messages';
import { PhaseSpec, type RunbookPlan, compileSteps } from '../../domain/runbook';
import { TemplateError, renderTemplate, usesAlertTemplates } from '../../domain/template';
import { refusalOf } from '../helpers/refusal';

const FILE = 'runbooks/example.yaml';

/** A valid runbook whose contain phase has one step; `step` is that step's YAML at 6 spaces of indent. */
function runbook(step: string): string {
  return `id: example
version: 1
title: Example
category: security
eventTypes: [dos]
phases:
  detect: {}
  contain:
    steps:
${step}
  eradicate: {}
  recover: {}
  post-incident: {}
`;
}

const errorOf = (text: string): string => refusalOf(() => compileRunbook(text, FILE), 'the runbook');

const block = (targets: string, when = '{ labels: { source_ip: present } }') => `      - id: block
        action: network.blockSource
        when: ${when}
        with:
          targets: '${targets}'
          reason: 'named by \${alert.source}'`;

describe('alert template paths in runbooks', () => {
  it('accepts ${alert.labels.<name>} and ${alert.source}, and a parameter filled from a label loads', () => {
    const plan = compileRunbook(runbook(block('${alert.labels.source_ip}')), FILE);
    expect(plan.phases.contain.steps[0]).toMatchObject({
      id: 'block',
      when: { labels: { source_ip: 'present' } },
      with: { targets: '${alert.labels.source_ip}', reason: 'named by ${alert.source}' },
    });
    // Label names may have digits, underscores and dashes.
    expect(() => compileRunbook(runbook(block('${alert.labels.src-ip_4}')), FILE)).not.toThrow();
    // A literal target is still checked when the runbook loads.
    expect(errorOf(runbook(block('not-an-address')))).toMatch(
      /^runbooks\/example\.yaml:\d+:\d+: phases\.contain\.steps\[0\]\.with\.targets: expected an IPv4\/IPv6 address or CIDR/,
    );
  });

  it('refuses other alert paths, in the loader’s words, at the field’s position', () => {
    expect(errorOf(runbook(block('${alert.ip}')))).toBe(
      'runbooks/example.yaml:14:20: phases.contain.steps[0].with.targets: template path "${alert.ip}" cannot resolve; expected alert.source or alert.labels.<name>, like ${alert.labels.source_ip}',
    );
    expect(errorOf(runbook(block('${alert.labels}')))).toContain(
      'template path "${alert.labels}" cannot resolve; expected alert.source or alert.labels.<name>',
    );
    expect(errorOf(runbook(block('${alert.labels.source.ip}')))).toContain(
      'template path "${alert.labels.source.ip}" cannot resolve; expected alert.source or alert.labels.<name>, like ${alert.labels.source_ip}; a label name is one word of letters, digits, _ and - (no dots)',
    );
    expect(errorOf(runbook(block('${alert}')))).toContain(
      'template path "${alert}" cannot resolve; expected alert.source or alert.labels.<name>',
    );
    // Any other unknown path lists the alert paths among those that resolve.
    expect(errorOf(runbook(block('${alert.labels.source_ip}').replace('${alert.source}', '${incident.ip}')))).toMatch(
      /template path "\$\{incident\.ip\}" cannot resolve; expected one of incident\.id, .*runbook\.version, alert\.source, alert\.labels\.<name>$/,
    );
  });

  it('still refuses a label where the action needs something other than text', () => {
    const issues = PhaseSpec.safeParse({
      steps: [{ id: 'kill', action: 'app.killSwitch', with: { enabled: '${alert.labels.kill}' } }],
    });
    expect(issues.success).toBe(false);
    expect(issues.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'steps.0.with.enabled: expected enabled: true or false (an alert label is text, so it cannot fill this field)',
    ]);
  });

  it('knows which steps read the alert', () => {
    expect(usesAlertTemplates({ targets: '${alert.labels.source_ip}' })).toBe(true);
    expect(usesAlertTemplates({ message: ['x', { deep: 'from ${alert.source}' }] })).toBe(true);
    expect(usesAlertTemplates({ message: '${incident.id} ${incident.title}' })).toBe(false);
    expect(usesAlertTemplates({ message: 'costs $5, ${broken' })).toBe(false);
  });
});

describe('rendering alert templates', () => {
  const context = {
    incident: { id: 'INC-2026-001' },
    alert: { source: 'waf', labels: { source_ip: '203.0.113.7', user: 'user-4711' } },
  };

  it('renders labels and the source by plain lookup', () => {
    expect(
      renderTemplate({ targets: '${alert.labels.source_ip}', reason: '${incident.id} via ${alert.source}' }, context),
    ).toEqual({
      targets: '203.0.113.7',
      reason: 'INC-2026-001 via waf',
    });
    // A label value is never scanned for placeholders again.
    expect(renderTemplate('${alert.labels.user}', { alert: { labels: { user: '${incident.id}' } } })).toBe(
      '${incident.id}',
    );
  });

  it('fails naming the label when the incident has no such label, and the source when there is none', () => {
    expect(() => renderTemplate({ targets: '${alert.labels.source_cidr}' }, context)).toThrow(TemplateError);
    expect(() => renderTemplate({ targets: '${alert.labels.source_cidr}' }, context)).toThrow(
      'template path "alert.labels.source_cidr" has no value: no alert of this incident has the label "source_cidr" (guard the step with when: { labels: { source_cidr: present } })',
    );
    expect(() => renderTemplate('${alert.source}', { alert: { labels: {} } })).toThrow(
      'template path "alert.source" has no value: the incident was opened without a source and no alert has named one',
    );
    // Labels are own properties only: nothing is found on Object.prototype.
    expect(() => renderTemplate('${alert.labels.constructor}', context)).toThrow(
      'no alert of this incident has the label "constructor"',
    );
  });
});

describe('when: { labels: ... }', () => {
  const facts = (labels?: Record<string, string>): StepFacts => ({
    severity: 'P1',
    eventType: 'dos',
    category: 'security',
    dataBreachConfirmed: false,
    executiveAttentionRequested: false,
    affectedSystems: 0,
    escalationLevel: 0,
    drill: true,
    ...(labels ? { labels } : {}),
  });
  const labelled = facts({ source_ip: '203.0.113.7', severity: 'critical', note: 'two words' });

  const cases: [string, Condition, StepFacts, boolean, string][] = [
    ['present', { labels: { source_ip: 'present' } }, labelled, true, 'label source_ip is present'],
    ['present, missing', { labels: { user: 'present' } }, labelled, false, 'label user is absent, expected present'],
    ['absent', { labels: { user: 'absent' } }, labelled, true, 'label user is absent'],
    [
      'absent, there',
      { labels: { source_ip: 'absent' } },
      labelled,
      false,
      'label source_ip is 203.0.113.7, expected absent',
    ],
    ['one of', { labels: { severity: ['critical', 'high'] } }, labelled, true, 'label severity is critical'],
    ['one value', { labels: { severity: 'high' } }, labelled, false, 'label severity is critical, expected high'],
    [
      'one of, missing',
      { labels: { team: ['dba', 'sre'] } },
      labelled,
      false,
      'label team is absent, expected dba or sre',
    ],
    [
      'quoted when not plain',
      { labels: { note: 'absent' } },
      labelled,
      false,
      'label note is "two words", expected absent',
    ],
    [
      'list form is a value',
      { labels: { severity: ['present'] } },
      labelled,
      false,
      'label severity is critical, expected present',
    ],
    [
      'several: all must hold',
      { labels: { source_ip: 'present', user: 'present' } },
      labelled,
      false,
      'label user is absent, expected present',
    ],
    [
      'facts without labels',
      { labels: { source_ip: 'present' } },
      facts(),
      false,
      'label source_ip is absent, expected present',
    ],
    ['facts without labels, absent', { labels: { source_ip: 'absent' } }, facts(), true, 'label source_ip is absent'],
    [
      'complement of several present',
      { any: [{ labels: { source_ip: 'absent' } }, { labels: { user: 'absent' } }] },
      labelled,
      true,
      'label user is absent',
    ],
    [
      'with other tests',
      { severity: { atLeast: 'P1' }, labels: { severity: 'critical' } },
      labelled,
      true,
      'severity is P1, label severity is critical',
    ],
    [
      'not a prototype member',
      { labels: { toString: 'present' } },
      labelled,
      false,
      'label toString is absent, expected present',
    ],
  ];
  it.each(cases)('%s', (_name, condition, given, ok, reason) => {
    expect(parseCondition(condition)).toEqual(condition);
    expect(evaluateCondition(condition, given)).toEqual({ ok, reason });
  });

  it('refuses what cannot be a label test, saying what is expected', () => {
    const issues = (when: unknown) => {
      const parsed = PhaseSpec.safeParse({
        steps: [{ id: 'x', action: 'notify.send', with: { message: 'hi' }, when }],
      });
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ labels: {} })).toEqual([
      'steps.0.when.labels: expected at least one label test, like { source_ip: present }',
    ]);
    expect(issues({ labels: { port: 22 } })).toEqual([
      'steps.0.when.labels.port: expected the label value as text: quote it, like "22"',
    ]);
    expect(issues({ labels: { severity: [] } })).toEqual([
      'steps.0.when.labels.severity: expected at least one accepted value, like [critical, high]',
    ]);
    expect(issues({ labels: { severity: ['critical', true] } })).toEqual([
      'steps.0.when.labels.severity: expected the label value as text: quote it, like "true"',
    ]);
    expect(issues({ labels: { source_ip: '' } })).toEqual([
      'steps.0.when.labels.source_ip: expected present, absent, a value, or a list of accepted values, like [critical, high]',
    ]);
    expect(issues({ labels: 'source_ip' })).toEqual([
      'steps.0.when.labels: expected labels: label names with present, absent or accepted values, like { source_ip: present }',
    ]);
  });
});

/** Parses a condition as the runbook loader does (through a step). */
function parseCondition(condition: Condition): unknown {
  const [step] = compileSteps(
    PhaseSpec.parse({ steps: [{ id: 'x', action: 'notify.send', with: { message: 'hi' }, when: condition }] }).steps,
  );
  return step?.when;
}

describe('merging alert labels', () => {
  it('keeps the first value of a label and adds new names in arrival order', () => {
    const opened = mergeAlertLabels({}, { source_ip: '203.0.113.7', job: 'waf' });
    const later = mergeAlertLabels(opened, { source_ip: '198.51.100.9', user: 'user-4711' });
    expect(later).toEqual({ source_ip: '203.0.113.7', job: 'waf', user: 'user-4711' });
    expect(Object.keys(later)).toEqual(['source_ip', 'job', 'user']);
    expect(opened).toEqual({ source_ip: '203.0.113.7', job: 'waf' });
    expect(mergeAlertLabels(later, undefined)).toEqual(later);
  });

  it('keeps a label named like a prototype member as a plain label', () => {
    const merged = mergeAlertLabels({}, JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__', 'constructor']);
  });

  it(`keeps at most ${MAX_ALERT_LABELS} names`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_ALERT_LABELS + 20 }, (_, i) => [`l${i}`, String(i)]));
    const merged = mergeAlertLabels({ first: 'kept' }, many);
    expect(Object.keys(merged)).toHaveLength(MAX_ALERT_LABELS);
    expect(merged.first).toBe('kept');
    expect(merged[`l${MAX_ALERT_LABELS - 2}`]).toBe(String(MAX_ALERT_LABELS - 2));
    expect(merged[`l${MAX_ALERT_LABELS - 1}`]).toBeUndefined();
  });

  it('OpenRequest takes labels and a source, and refuses labels that are not text', () => {
    const parsed = OpenRequest.parse({
      title: 't',
      trigger: 'api:alice',
      labels: { source_ip: '203.0.113.7' },
      source: 'waf',
    });
    expect(parsed).toMatchObject({ labels: { source_ip: '203.0.113.7' }, source: 'waf' });
    expect(OpenRequest.parse({ title: 't', trigger: 'api:alice' }).labels).toBeUndefined();
    const bad = OpenRequest.safeParse({ title: 't', trigger: 'api:alice', labels: { port: 22 } });
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'labels.port: expected a label value as text',
    ]);
  });
});

describe('what the intake formats open an incident with', () => {
  /** An AlertIntake over a fake client that records what it was asked to open and signal. */
  function intake() {
    const opened: OpenRequest[] = [];
    const signalled: AlertSignalInput[] = [];
    const counter = { inc: () => undefined };
    const phases = Object.fromEntries(PHASES.map((phase) => [phase, { advance: 'auto', steps: [] }]));
    const plan = { id: 'any', match: { rules: [], default: true }, phases } as unknown as RunbookPlan;
    const incidents = {
      open: (request: OpenRequest) => {
        opened.push(OpenRequest.parse(request));
        return Promise.resolve({ incidentId: `INC-2026-${String(opened.length).padStart(3, '0')}`, created: true });
      },
      deliverAlert: (_id: string, alert: AlertSignalInput) => {
        signalled.push(alert);
        return Promise.resolve();
      },
      timeline: () => Promise.resolve([]),
    } as unknown as IncidentClient;
    const metrics = new Proxy({}, { get: () => counter }) as never;
    return {
      opened,
      signalled,
      delivery: new AlertIntake({ incidents, runbooks: () => new Map([['any', plan]]), metrics }),
    };
  }

  it('Alertmanager: commonLabels plus groupLabels, source "alertmanager"; each alert keeps its own labels', async () => {
    const { opened, signalled, delivery } = intake();
    const payload = AlertmanagerWebhook.parse({
      version: '4',
      groupKey: '{}:{alertname="BruteForce"}',
      status: 'firing',
      receiver: 'incident-engine',
      groupLabels: { alertname: 'BruteForce', cluster: 'eu-1' },
      commonLabels: { alertname: 'BruteForce', source_ip: '203.0.113.7', user: 'user-4711' },
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'BruteForce', source_ip: '203.0.113.7', user: 'user-4711', instance: 'api-1' },
          fingerprint: 'f1',
        },
      ],
    });
    await delivery.deliver(alertmanagerEvent(payload, Date.now()), 'alertmanager');
    expect(opened[0]).toMatchObject({
      source: 'alertmanager',
      labels: { alertname: 'BruteForce', cluster: 'eu-1', source_ip: '203.0.113.7', user: 'user-4711' },
    });
    // The alert rides in the open (it opened the incident), nothing through the stream.
    expect(opened[0]?.alerts?.[0]?.labels).toEqual({
      alertname: 'BruteForce',
      source_ip: '203.0.113.7',
      user: 'user-4711',
      instance: 'api-1',
    });
    expect(signalled).toEqual([]);
  });

  it('PagerDuty: scalar custom_details, then source, component, class, group and severity from the payload', async () => {
    const { opened, delivery } = intake();
    const event = PagerDutyEvent.parse({
      event_action: 'trigger',
      dedup_key: 'edr/host-7',
      payload: {
        summary: 'Ransomware note on host-7',
        source: 'host-7',
        severity: 'critical',
        component: 'fileserver',
        class: 'ransomware',
        group: 'prod',
        custom_details: { path: '/srv/share/README.txt', attempts: 3, nested: { a: 1 }, source: 'from-details' },
      },
    });
    await delivery.deliver(pagerDutyEvent(event, 'edr/host-7', Date.now()), 'edr');
    expect(opened[0]).toMatchObject({
      source: 'host-7',
      labels: {
        path: '/srv/share/README.txt',
        attempts: '3',
        source: 'host-7',
        component: 'fileserver',
        class: 'ransomware',
        group: 'prod',
        severity: 'critical',
      },
    });
    expect(opened[0]?.labels).not.toHaveProperty('nested');
  });

  it('generic: its labels and its source; no labels key when it sent none', async () => {
    const { opened, delivery } = intake();
    const withLabels = GenericAlert.parse({
      source: 'waf',
      title: 'SQLi from one address',
      labels: { source_ip: '198.51.100.4', endpoint: 'POST /login' },
    });
    await delivery.deliver(genericEvent(withLabels, Date.now()), 'waf');
    expect(opened[0]).toMatchObject({ source: 'waf', labels: { source_ip: '198.51.100.4', endpoint: 'POST /login' } });
    await delivery.deliver(
      genericEvent(GenericAlert.parse({ source: 'cron', title: 'backup missing' }), Date.now()),
      'cron',
    );
    expect(opened[1]).toMatchObject({ source: 'cron' });
    expect(opened[1]?.labels).toBeUndefined();
  });
});
