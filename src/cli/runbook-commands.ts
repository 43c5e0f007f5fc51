// `runbook list | validate | show`: runbook tooling that needs no Temporal server. Validation reports every file's
// errors (not only the first file's) with file:line:column, and exits 1 when any file is invalid.
import path from 'node:path';
import type { Command } from 'commander';
import { ACTIONS, isActionName } from '../../domain/actions/index';
import { formatDuration } from '../../domain/duration';
import { PHASES } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import { DEFAULT_RUNBOOK_DIR, findRunbook, loadRunbookFile, loadRunbooks, runbookFiles } from '../runbooks/load';

export interface RunbookCommandIo {
  json: () => boolean;
  print: (value: unknown, text: () => string) => void;
}

export interface ValidationResult {
  file: string;
  ok: boolean;
  id?: string;
  version?: number;
  steps?: number;
  errors?: string[];
}

function countSteps(plan: RunbookPlan): number {
  return PHASES.reduce((n, phase) => n + plan.phases[phase].steps.length, 0);
}

/** Validates each file on its own, so one bad runbook does not hide the others' errors. */
export function validateRunbookFiles(files: string[]): ValidationResult[] {
  return files.map((file) => {
    try {
      const plan = loadRunbookFile(file);
      return { file, ok: true, id: plan.id, version: plan.version, steps: countSteps(plan) };
    } catch (error) {
      return { file, ok: false, errors: (error instanceof Error ? error.message : String(error)).split('\n') };
    }
  });
}

export function describeRunbook(plan: RunbookPlan): string {
  const ms = (value: number) => (value === 0 ? 'immediate' : formatDuration(value));
  const e = plan.escalation;
  const lines = [
    `${plan.id} v${plan.version}: ${plan.title}`,
    `  category    ${plan.category}; event types ${plan.eventTypes.join(', ')}`,
    `  source      ${path.relative(process.cwd(), plan.source) || plan.source}`,
    `  sha256      ${plan.contentHash}`,
    `  response    P0 ${ms(e.responseTimeMs.P0)}, P1 ${ms(e.responseTimeMs.P1)}, P2 ${ms(e.responseTimeMs.P2)}, P3 ${ms(e.responseTimeMs.P3)}`,
    `  SLA         P0 ${ms(e.resolutionSlaMs.P0)}, P1 ${ms(e.resolutionSlaMs.P1)}, P2 ${ms(e.resolutionSlaMs.P2)}, P3 ${ms(e.resolutionSlaMs.P3)}`,
    `  root cause  within ${ms(e.rootCauseWithinMs)}`,
    `  levels      ${([1, 2, 3] as const).map((l) => `L${l} ${e.levels[l].name} (${ms(e.levels[l].respondWithinMs)})`).join(', ')}`,
  ];
  for (const phase of PHASES) {
    const spec = plan.phases[phase];
    const window = e.phaseWindows[phase];
    lines.push(
      '',
      `${phase} (window ${window.fromMs === 0 ? '0' : ms(window.fromMs)} to ${ms(window.toMs)}${spec.advance === 'manual' ? ', waits for advance' : ''})`,
    );
    if (spec.steps.length === 0) lines.push('  (no steps)');
    for (const step of spec.steps as { id: string; action?: string; description?: string }[]) {
      const action = step.action ?? 'parallel group';
      const summary = step.action && isActionName(step.action) ? ACTIONS[step.action].summary : '';
      lines.push(`  ${step.id.padEnd(28)} ${action.padEnd(24)} ${step.description ?? summary}`);
    }
  }
  return lines.join('\n');
}

export function registerRunbookCommands(program: Command, io: RunbookCommandIo): void {
  const runbook = program
    .command('runbook')
    .description(`runbooks in ${path.relative(process.cwd(), DEFAULT_RUNBOOK_DIR) || 'runbooks'}/`);

  runbook
    .command('list')
    .description('list the runbooks')
    .action(() => {
      const plans = [...loadRunbooks().values()];
      io.print(
        plans.map((p) => ({
          id: p.id,
          version: p.version,
          title: p.title,
          category: p.category,
          eventTypes: p.eventTypes,
        })),
        () => plans.map((p) => `${p.id.padEnd(28)} v${p.version}  ${p.category.padEnd(12)} ${p.title}`).join('\n'),
      );
    });

  runbook
    .command('validate [files...]')
    .description('check runbook files (default: every runbook); errors name file, line, column and field')
    .action((files: string[]) => {
      const targets = files.length > 0 ? files.map((f) => path.resolve(f)) : runbookFiles();
      const results = validateRunbookFiles(targets);
      io.print(results, () =>
        results
          .map((r) =>
            r.ok
              ? `ok      ${r.file} (${r.id} v${r.version}, ${r.steps} steps)`
              : `invalid ${r.file}\n${r.errors!.map((e) => `  ${e}`).join('\n')}`,
          )
          .join('\n'),
      );
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });

  runbook
    .command('show <id>')
    .description('a runbook: escalation policy, phases and steps')
    .action((id: string) => {
      const plan = findRunbook(id);
      io.print(plan, () => describeRunbook(plan));
    });
}
