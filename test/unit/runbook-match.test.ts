// Runbook choice for detector alerts: the most specific matching rule over all runbooks wins, ties go to the runbook
// id that sorts first, list values accept any of their entries, and the default (configured or `match.default`)
// takes the rest; no match and no default is an error that says how to fix it.
import { describe, expect, it } from 'vitest';
import { type AlertFacts, NoRunbookError, selectRunbook } from '../../src/runbooks/match';
import { compileRunbook } from '../../src/runbooks/load';
import type { RunbookPlan } from '../../domain/runbook';

function runbook(id: string, match?: string): RunbookPlan {
  const text = [
    `id: ${id}`,
    'version: 1',
    `title: ${id}`,
    'category: security',
    'eventTypes: [other]',
    ...(match ? ['match:', ...match.split('\n').map((l) => `  ${l}`)] : []),
    'phases: { detect: {}, contain: {}, eradicate: {}, recover: {}, post-incident: {} }',
  ].join('\n');
  return compileRunbook(text, `${id}.yaml`);
}

const plans = (...list: RunbookPlan[]) => new Map(list.map((p) => [p.id, p]));
const alert = (labels: Record<string, string>, extra: Partial<AlertFacts> = {}): AlertFacts => ({
  format: 'alertmanager',
  source: 'alertmanager',
  labels,
  ...extra,
});

describe('selectRunbook', () => {
  const all = plans(
    runbook('web', 'rules:\n  - alertname: HighErrorRate\n  - alertname: [Latency, Saturation]'),
    runbook('web-api', 'rules:\n  - alertname: HighErrorRate\n    labels: { service: api }'),
    runbook('db', 'rules:\n  - format: pagerduty\n    source: db-01'),
    runbook('fallback', 'default: true'),
    runbook('plain'),
  );

  it('prefers the most specific matching rule', () => {
    expect(selectRunbook(all, alert({ alertname: 'HighErrorRate', service: 'api' }))).toMatchObject({
      plan: { id: 'web-api' },
      reason: 'rule 1 of runbook web-api',
    });
    expect(selectRunbook(all, alert({ alertname: 'HighErrorRate', service: 'web' })).plan.id).toBe('web');
    expect(selectRunbook(all, alert({ alertname: 'Saturation' })).reason).toBe('rule 2 of runbook web');
  });

  it('matches format and source, and falls back to the default', () => {
    expect(selectRunbook(all, alert({}, { format: 'pagerduty', source: 'db-01' })).plan.id).toBe('db');
    expect(selectRunbook(all, alert({}, { format: 'generic', source: 'db-01' }))).toMatchObject({
      plan: { id: 'fallback' },
      reason: 'default runbook',
    });
    expect(selectRunbook(all, alert({ alertname: 'Other' }), 'plain').plan.id).toBe('plain');
  });

  it('says what to do when nothing matches, or the default is ambiguous or unknown', () => {
    const none = plans(runbook('web', 'rules:\n  - alertname: HighErrorRate'));
    expect(() => selectRunbook(none, alert({ alertname: 'Other', job: 'x' }))).toThrow(
      'no runbook matches this alertmanager alert (source "alertmanager", labels alertname="Other", job="x") and no default is set',
    );
    const two = plans(runbook('a', 'default: true'), runbook('b', 'default: true'));
    expect(() => selectRunbook(two, alert({}))).toThrow('several runbooks are marked match.default: true (a, b)');
    expect(() => selectRunbook(none, alert({}), 'nope')).toThrow(NoRunbookError);
  });

  it('rejects a malformed match block with the field named', () => {
    expect(() => runbook('bad', 'rules:\n  - format: smoke-signals')).toThrow(
      'bad.yaml:8:15: match.rules[0].format: expected an intake format or a list of them: alertmanager, pagerduty, generic',
    );
    expect(() => runbook('bad', 'rules:\n  - labels: { a: 1 }')).toThrow(
      /bad\.yaml:\d+:\d+: match\.rules\[0\]\.labels\.a: /,
    );
  });
});
