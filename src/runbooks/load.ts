// Loads runbooks from YAML, validates them with zod, and compiles the plan an incident pins at start.
// Errors name file, line, column and field; nothing half-valid is ever returned.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveEscalationPolicy } from '../../domain/escalation-policy';
import { PHASES } from '../../domain/incident';
import { MAX_PLAN_BYTES, MAX_RUNBOOK_STEPS } from '../../domain/limits';
import { Runbook, type RunbookPlan, compilePhases, stepsWithPaths } from '../../domain/runbook';
import { type TemplateError, checkAlertPath, templatePaths } from '../../domain/template';
import { jsonBytes } from '../../domain/utf8';
import { YamlValidationError, formatYamlIssues, parseYamlWithPositions } from './yaml-errors';

/**
 * Paths a step's templates may use; the phase workflows supply exactly these. Besides them, the alert paths
 * (`checkAlertPath`): `alert.source` and `alert.labels.<name>`, whose values come from the detector, so a label may be
 * missing when the step runs (guard the step with `when: { labels: { <name>: present } }`).
 */
export const TEMPLATE_PATHS = [
  'incident.id',
  'incident.title',
  'incident.severity',
  'incident.category',
  'incident.eventType',
  'incident.phase',
  'incident.owner',
  'incident.drill',
  'runbook.id',
  'runbook.version',
] as const;

export const DEFAULT_RUNBOOK_DIR = path.resolve(import.meta.dirname, '../../runbooks');

export class RunbookNotFoundError extends Error {
  constructor(id: string, dir: string, known: string[]) {
    super(`no runbook "${id}" in ${dir}; known runbooks: ${known.join(', ') || '(none)'}`);
    this.name = 'RunbookNotFoundError';
  }
}

/** How the loader names the alert paths in its messages. */
const ALERT_PATHS_HINT = ['alert.source', 'alert.labels.<name>'];

function pathIssue(p: string): string | undefined {
  if ((TEMPLATE_PATHS as readonly string[]).includes(p)) return undefined;
  const alert = checkAlertPath(p);
  if (alert) return alert.ok ? undefined : alert.message;
  return `template path "\${${p}}" cannot resolve; expected one of ${[...TEMPLATE_PATHS, ...ALERT_PATHS_HINT].join(', ')}`;
}

function templateIssues(value: unknown, where: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  if (typeof value === 'string') {
    try {
      return templatePaths(value).flatMap((p) => {
        const message = pathIssue(p);
        return message === undefined ? [] : [{ path: where, message }];
      });
    } catch (error) {
      return [{ path: where, message: (error as TemplateError).message }];
    }
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateIssues(v, [...where, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templateIssues(v, [...where, k]));
  }
  return [];
}

/** Validates runbook text and compiles it. `file` is used in messages and as the plan's source. */
export function compileRunbook(text: string, file: string): RunbookPlan {
  const { value, locate } = parseYamlWithPositions(text, file);
  const parsed = Runbook.safeParse(value ?? {});
  if (!parsed.success) throw new YamlValidationError(formatYamlIssues(file, parsed.error.issues, locate));
  const runbook = parsed.data;
  const issues = PHASES.flatMap((phase) =>
    stepsWithPaths(runbook.phases[phase].steps).flatMap(({ step, path }) =>
      templateIssues(step.with, ['phases', phase, 'steps', ...path, 'with']),
    ),
  );
  if (issues.length > 0) throw new YamlValidationError(formatYamlIssues(file, issues, locate));

  const steps = PHASES.reduce((n, phase) => n + stepsWithPaths(runbook.phases[phase].steps).length, 0);
  if (steps > MAX_RUNBOOK_STEPS) {
    const message = `expected at most ${MAX_RUNBOOK_STEPS} steps in all phases together, found ${steps} (every step is in the incident's view, which answers every update)`;
    throw new YamlValidationError(formatYamlIssues(file, [{ path: ['phases'], message }], locate));
  }
  const plan = pinnedPlan(runbook, { contentHash: createHash('sha256').update(text).digest('hex'), source: file });
  const bytes = jsonBytes(plan);
  if (bytes > MAX_PLAN_BYTES) {
    throw new YamlValidationError(
      `${file}: the compiled runbook is ${Math.ceil(bytes / 1024)} KiB; expected at most ${MAX_PLAN_BYTES / 1024} KiB ` +
        '(an incident pins it in its history and carries it when it continues as new, within 2 MB a payload)',
    );
  }
  return plan;
}

/** The plan an incident pins: a validated runbook compiled, with where it came from. */
export function pinnedPlan(runbook: Runbook, origin: { contentHash: string; source: string }): RunbookPlan {
  return {
    id: runbook.id,
    version: runbook.version,
    title: runbook.title,
    category: runbook.category,
    eventTypes: runbook.eventTypes,
    contentHash: origin.contentHash,
    source: origin.source,
    escalation: resolveEscalationPolicy(runbook.escalation),
    phases: compilePhases(runbook),
    ...(runbook.match ? { match: runbook.match } : {}),
    ...(runbook.autoResolve ? { autoResolve: { quietForMs: runbook.autoResolve.quietFor } } : {}),
  };
}

export function loadRunbookFile(file: string): RunbookPlan {
  return compileRunbook(readFileSync(file, 'utf8'), file);
}

/** Every `*.yaml` directly in `dir` (drill scenarios live below it and are not runbooks). */
export function runbookFiles(dir = DEFAULT_RUNBOOK_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
    .sort();
}

export function loadRunbooks(dir = DEFAULT_RUNBOOK_DIR): Map<string, RunbookPlan> {
  const plans = new Map<string, RunbookPlan>();
  for (const file of runbookFiles(dir)) {
    const plan = loadRunbookFile(file);
    const clash = plans.get(plan.id);
    if (clash) throw new YamlValidationError(`${file}: runbook id "${plan.id}" is already used by ${clash.source}`);
    plans.set(plan.id, plan);
  }
  return plans;
}

export function findRunbook(id: string, dir = DEFAULT_RUNBOOK_DIR): RunbookPlan {
  const plans = loadRunbooks(dir);
  const plan = plans.get(id);
  if (!plan) throw new RunbookNotFoundError(id, dir, [...plans.keys()]);
  return plan;
}
