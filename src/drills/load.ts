// Loads drill scenarios (runbooks/drills/*.yaml) and validates them with zod; every error names file, line, column and
// field, like the runbook loader's. Nothing half-valid is returned. Never runs anything.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type DrillScenario, DrillScenarioFile, toScenario } from '../../domain/drill';
import { PHASES } from '../../domain/incident';
import type { PlanStep, RunbookPlan } from '../../domain/runbook';
import { DEFAULT_RUNBOOK_DIR, RunbookNotFoundError, loadRunbookFile, runbookFiles } from '../runbooks/load';
import { YamlValidationError, formatYamlIssues, parseYamlWithPositions } from '../runbooks/yaml-errors';

export const DEFAULT_DRILL_DIR = path.join(DEFAULT_RUNBOOK_DIR, 'drills');

export class DrillNotFoundError extends Error {
  constructor(name: string, dir: string, known: string[]) {
    super(
      `no drill scenario "${name}": not a file, and not in ${dir}; known scenarios: ${known.join(', ') || '(none)'}`,
    );
    this.name = 'DrillNotFoundError';
  }
}

/** A path for messages and reports: relative to the working directory when inside it, so reports carry no temp paths. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.basename(file);
}

export interface DrillLoadOptions {
  /** Where the scenario's runbook is looked up (default runbooks/). */
  runbookDir?: string;
  /** Skip the checks against the runbook (step ids, approval gates, tasks). */
  skipRunbookCheck?: boolean;
}

/**
 * The runbook with this id: `<dir>/<id>.yaml` first, else any runbook file declaring that id. Loads files one by one,
 * so a runbook being edited next door (invalid for a moment) does not stop a drill of another.
 */
export function resolveRunbook(id: string, dir = DEFAULT_RUNBOOK_DIR): RunbookPlan {
  const direct = path.join(dir, `${id}.yaml`);
  if (existsSync(direct)) {
    const plan = loadRunbookFile(direct);
    if (plan.id === id) return plan;
  }
  const known: string[] = [];
  for (const file of runbookFiles(dir)) {
    try {
      const plan = loadRunbookFile(file);
      if (plan.id === id) return plan;
      known.push(plan.id);
    } catch {
      known.push(`${path.basename(file)} (invalid)`);
    }
  }
  throw new RunbookNotFoundError(id, displayPath(dir), known);
}

type Issue = { path: PropertyKey[]; message: string };

/** What the script and the expectations say about steps, checked against the runbook they drill. */
function runbookIssues(scenario: DrillScenario, plan: RunbookPlan): Issue[] {
  const steps = new Map<string, PlanStep>();
  for (const phase of PHASES) for (const step of plan.phases[phase].steps) steps.set(step.id, step);
  const known = [...steps.keys()].join(', ');
  const unknown = (id: string) => `no step "${id}" in runbook ${plan.id}; its steps are: ${known}`;
  const issues: Issue[] = [];
  scenario.script.forEach((entry, index) => {
    if (entry.kind !== 'approve' && entry.kind !== 'reject' && entry.kind !== 'completeTask') return;
    const where = ['script', index, entry.kind, 'step'];
    const step = steps.get(entry.payload.step);
    if (!step) issues.push({ path: where, message: unknown(entry.payload.step) });
    else if (entry.kind === 'completeTask' && step.action !== 'task') {
      issues.push({
        path: where,
        message: `step "${step.id}" is a ${step.action} step, not a task; completeTask needs action: task`,
      });
    } else if (entry.kind !== 'completeTask' && !step.approval) {
      issues.push({
        path: where,
        message: `step "${step.id}" has no approval gate; ${entry.kind} needs a step with approval:`,
      });
    } else if (entry.kind !== 'completeTask' && step.approval && !step.approval.roles.includes(entry.payload.role)) {
      if (entry.refused === undefined) {
        issues.push({
          path: ['script', index, entry.kind, 'role'],
          message: `role "${entry.payload.role}" may not decide step "${step.id}"; expected one of: ${step.approval.roles.join(', ')} (or mark the line refused: true)`,
        });
      }
    }
  });
  for (const field of ['stepsRan', 'stepsSkipped', 'stepsFailed', 'stepsCompensated'] as const) {
    scenario.expect[field]?.forEach((id, index) => {
      if (!steps.has(id)) issues.push({ path: ['expect', field, index], message: unknown(id) });
    });
  }
  return issues;
}

/** Validates scenario text (and, unless told otherwise, its step references against the runbook). */
export function compileDrill(text: string, file: string, options: DrillLoadOptions = {}): DrillScenario {
  const shown = displayPath(file);
  const { value, locate } = parseYamlWithPositions(text, shown);
  const parsed = DrillScenarioFile.safeParse(value ?? {});
  if (!parsed.success) throw new YamlValidationError(formatYamlIssues(shown, parsed.error.issues, locate));
  const scenario = toScenario(parsed.data, shown);
  if (!options.skipRunbookCheck) {
    let plan: RunbookPlan;
    try {
      plan = resolveRunbook(scenario.runbook, options.runbookDir);
    } catch (error) {
      throw new YamlValidationError(
        formatYamlIssues(shown, [{ path: ['runbook'], message: (error as Error).message }], locate),
      );
    }
    const issues = runbookIssues(scenario, plan);
    if (issues.length > 0) throw new YamlValidationError(formatYamlIssues(shown, issues, locate));
  }
  return scenario;
}

export function loadDrillFile(file: string, options: DrillLoadOptions = {}): DrillScenario {
  return compileDrill(readFileSync(file, 'utf8'), file, options);
}

/** Every `*.yaml` in `dir`, sorted. */
export function drillFiles(dir = DEFAULT_DRILL_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
    .sort();
}

/** A scenario by file path, or by id / file name in `dir`. */
export function findDrill(nameOrPath: string, dir = DEFAULT_DRILL_DIR, options: DrillLoadOptions = {}): DrillScenario {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return loadDrillFile(nameOrPath, options);
  const files = drillFiles(dir);
  const byName = files.find((file) => path.basename(file).replace(/\.ya?ml$/, '') === nameOrPath);
  if (byName) return loadDrillFile(byName, options);
  for (const file of files) {
    try {
      const scenario = loadDrillFile(file, options);
      if (scenario.id === nameOrPath) return scenario;
    } catch {
      // An invalid neighbour does not hide the one asked for; `drill validate` reports it.
    }
  }
  throw new DrillNotFoundError(
    nameOrPath,
    displayPath(dir),
    files.map((file) => path.basename(file).replace(/\.ya?ml$/, '')),
  );
}
