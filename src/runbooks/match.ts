// Picks the runbook for a detector alert from the runbooks' optional `match:` blocks: the most specific matching rule
// over all runbooks wins, ties go to the runbook id that sorts first; an alert no rule matches that names its event
// type goes to the runbook written for it (`eventTypes`), the rest to the configured default (api.defaultRunbook),
// else the runbook marked `match.default: true`, else the shipped `triage` runbook, so no alert is refused for want of
// a runbook. Pure: no I/O, never guesses silently.
import type { EventType } from '../../domain/incident';
import type { IntakeFormat, MatchRule, RunbookPlan } from '../../domain/runbook';

/** What matching looks at: the intake that received the alert, its source and its labels. */
export interface AlertFacts {
  format: IntakeFormat;
  source: string;
  labels: Record<string, string>;
}

export interface RunbookChoice {
  plan: RunbookPlan;
  /** Why this runbook: `rule <n> of runbook <id>`, `default runbook`, `triage runbook`, or `named by the alert`. */
  reason: string;
}

export class NoRunbookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoRunbookError';
  }
}

function accepts(expected: string | string[], actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return Array.isArray(expected) ? expected.includes(actual) : expected === actual;
}

export function ruleMatches(rule: MatchRule, alert: AlertFacts): boolean {
  if (rule.alertname !== undefined && !accepts(rule.alertname, alert.labels.alertname)) return false;
  if (rule.source !== undefined && !accepts(rule.source, alert.source)) return false;
  if (rule.format !== undefined && !accepts(rule.format, alert.format)) return false;
  for (const [name, expected] of Object.entries(rule.labels ?? {})) {
    if (!accepts(expected, alert.labels[name])) return false;
  }
  return true;
}

/** How many conditions a rule has: the more, the more specific. */
export function ruleSpecificity(rule: MatchRule): number {
  return (
    (rule.alertname !== undefined ? 1 : 0) +
    (rule.source !== undefined ? 1 : 0) +
    (rule.format !== undefined ? 1 : 0) +
    Object.keys(rule.labels ?? {}).length
  );
}

/** The runbook that takes alerts nothing else selects when no default is configured or marked (runbooks/triage.yaml). */
export const TRIAGE_RUNBOOK_ID = 'triage';

/** The default runbook: `api.defaultRunbook` when set, else the one runbook marked `match.default: true`. */
export function defaultRunbook(plans: Map<string, RunbookPlan>, configured?: string): RunbookPlan | undefined {
  if (configured !== undefined) {
    const plan = plans.get(configured);
    if (!plan) {
      throw new NoRunbookError(
        `api.defaultRunbook names runbook "${configured}", which does not exist; known runbooks: ${[...plans.keys()].sort().join(', ') || '(none)'}`,
      );
    }
    return plan;
  }
  const marked = [...plans.values()].filter((p) => p.match?.default).sort((a, b) => a.id.localeCompare(b.id));
  if (marked.length > 1) {
    throw new NoRunbookError(
      `several runbooks are marked match.default: true (${marked.map((p) => p.id).join(', ')}); keep one, or set api.defaultRunbook`,
    );
  }
  return marked[0];
}

/**
 * The runbook written for the alert's event type: of those whose `eventTypes` list it (triage aside), the one that
 * lists the fewest (the most specific: data-breach before security-incident for a data breach), ties to the id that
 * sorts first. None for `other`, which says nothing about what happened.
 */
export function runbookForEventType(plans: Map<string, RunbookPlan>, eventType: EventType): RunbookPlan | undefined {
  if (eventType === 'other') return undefined;
  return [...plans.values()]
    .filter((plan) => plan.id !== TRIAGE_RUNBOOK_ID && plan.eventTypes.includes(eventType))
    .sort((a, b) => a.eventTypes.length - b.eventTypes.length || a.id.localeCompare(b.id))[0];
}

export function selectRunbook(
  plans: Map<string, RunbookPlan>,
  alert: AlertFacts,
  configuredDefault?: string,
  eventType?: EventType,
): RunbookChoice {
  let best: { plan: RunbookPlan; specificity: number; index: number } | undefined;
  for (const plan of [...plans.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    (plan.match?.rules ?? []).forEach((rule, index) => {
      if (!ruleMatches(rule, alert)) return;
      const specificity = ruleSpecificity(rule);
      if (!best || specificity > best.specificity) best = { plan, specificity, index };
    });
  }
  if (best) return { plan: best.plan, reason: `rule ${best.index + 1} of runbook ${best.plan.id}` };
  const written = eventType !== undefined ? runbookForEventType(plans, eventType) : undefined;
  if (written) return { plan: written, reason: `the runbook for event type ${eventType}` };
  const fallback = defaultRunbook(plans, configuredDefault);
  if (fallback) return { plan: fallback, reason: 'default runbook' };
  const triage = plans.get(TRIAGE_RUNBOOK_ID);
  if (triage) return { plan: triage, reason: 'triage runbook: no match rule selected the alert' };
  const labels = Object.entries(alert.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  throw new NoRunbookError(
    `no runbook matches this ${alert.format} alert (source ${JSON.stringify(alert.source)}${labels ? `, labels ${labels}` : ''}) ` +
      `and no default is set: add a \`match:\` rule to a runbook, mark one \`match: { default: true }\`, set api.defaultRunbook, or restore the shipped ${TRIAGE_RUNBOOK_ID} runbook`,
  );
}
