// Containment from the first alert, for every runbook shipped in runbooks/: an alert-opened P0 whose labels name
// every target a step can take (source_ip, user, endpoint, key_id, path, breaker) gets its automated containment with
// no person acting. The plan is pinned as the intake pins it (planForSeverity: people's detect checks beside
// containment), and the phase runner holds no automated step behind a task unless the runbook's `after:` says so.
// Checked per runbook: every contain step that needs no person (no task, no approval, no `after:`) and whose `when`
// holds has completed, the runbook has at least one such step besides notifications, the people's checks are waiting
// beside it, nobody acted (no task completed, no approval, no acknowledgement), and a false positive undoes it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbookFile, runbookFiles } from '../../src/runbooks/load';
import { isWorkflowAction } from '../../domain/actions/task';
import { evaluateCondition } from '../../domain/condition';
import { type PlanStep, planForSeverity } from '../../domain/runbook';
import { ALERT_TARGET_LABELS, incidentInput, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'first-containment-test';
const RUNBOOK_FILES = runbookFiles();
const LABELS = ALERT_TARGET_LABELS;

let engine: TimeSkippingEngine;
beforeAll(async () => {
  engine = await startTimeSkippingEngine(TASK_QUEUE);
});
afterAll(async () => {
  await engine?.close();
});

describe('an alert naming the targets gets containment with no person acting', () => {
  RUNBOOK_FILES.forEach((file, index) => {
    const name = path.basename(file);
    it(`${name}: automated containment runs at once, people's checks beside it`, { timeout: 120_000 }, async () => {
      const plan = planForSeverity(loadRunbookFile(file), 'P0');
      const incidentId = `INC-2026-${String(901 + index).padStart(3, '0')}`;
      await startIncident(
        engine.env.client,
        TASK_QUEUE,
        incidentInput(incidentId, plan, {
          title: `Alert for ${plan.title}`,
          eventType: plan.eventTypes[0],
          severity: 'P0',
          trigger: 'alertmanager:first-containment-test',
          drill: true,
          labels: { ...LABELS },
          source: 'alertmanager',
        }),
      );
      const facts = {
        severity: 'P0' as const,
        eventType: plan.eventTypes[0]!,
        category: plan.category,
        dataBreachConfirmed: plan.eventTypes[0] === 'data_breach',
        executiveAttentionRequested: false,
        affectedSystems: 0,
        escalationLevel: 0,
        drill: true,
        labels: LABELS,
      };
      const needsNobody = (step: PlanStep) =>
        !isWorkflowAction(step.action) &&
        !step.approval &&
        !step.after?.length &&
        (!step.when || evaluateCondition(step.when, facts).ok);
      const expected = plan.phases.contain.steps.filter(needsNobody).map((s) => s.id);
      expect(
        plan.phases.contain.steps.some((s) => needsNobody(s) && s.action !== 'notify.send'),
        `${name}: no containment action runs by itself`,
      ).toBe(true);

      const status = await until(
        () => engine.incidents.status(incidentId),
        (s) => expected.every((id) => s.steps.some((r) => r.stepId === id && r.status === 'completed')),
        `${name}: ${expected.join(', ')} completed`,
      );
      expect(status.phases.contain?.startedAt).toBeDefined();
      // The people's checks of the detect phase wait beside containment (a task in the detect-checks group).
      const checks = plan.phases.contain.steps.filter((s) => s.group === 'detect-checks').map((s) => s.id);
      if (checks.length > 0)
        expect(status.waitingSteps.map((w) => w.stepId)).toEqual(expect.arrayContaining([checks[0]]));
      const timeline = await engine.incidents.timeline(incidentId);
      expect(
        timeline.filter((e) => ['task_completed', 'approval_granted', 'acknowledged'].includes(e.type)),
        `${name}: someone acted`,
      ).toEqual([]);
      // A false positive undoes what containment did, still with nobody else acting.
      const undoable = status.steps.filter((r) => r.status === 'completed' && r.undo).map((r) => r.stepId);
      await engine.incidents.declareFalsePositive(incidentId, { by: 'detector', reason: 'the alert was wrong' });
      const compensated = await until(
        () => engine.incidents.timeline(incidentId),
        (t) => t.some((e) => e.type === 'closed'),
        `${name}: closed as a false positive`,
      );
      expect(
        compensated.filter((e) => e.type === 'step_compensated').map((e) => (e as { stepId: string }).stepId),
      ).toEqual(expect.arrayContaining(undoable));
    });
  });
});
