// `task`: a person's work in a runbook ("engage external forensics", "brief legal"). It has no activity: the step
// runner waits in the workflow until an operator completes it with the `completeTask` update, or its timeout runs out
// and `onTimeout` decides. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { Duration } from '../duration';
import { defineActions } from './spec';

/** What happens when nobody decides in time (approvals and tasks alike). */
export const ON_TIMEOUT = ['proceed', 'skip', 'escalate', 'fail'] as const;
export const OnTimeout = z.enum(ON_TIMEOUT, {
  error: `expected onTimeout: ${ON_TIMEOUT.join(', ')}`,
});
export type OnTimeout = z.infer<typeof OnTimeout>;

/**
 * A wait for a person (a task, an approval): `fields` plus `timeout` (no limit when absent) and `onTimeout` (default
 * `escalate`), which needs a timeout.
 */
export function personWait<S extends z.ZodRawShape>(fields: S, exampleTimeout: string) {
  const limit = { timeout: Duration.optional(), onTimeout: OnTimeout.optional() };
  const needsTimeout = (p: object) => {
    const { timeout, onTimeout } = p as { timeout?: number; onTimeout?: OnTimeout };
    return onTimeout === undefined || timeout !== undefined;
  };
  return z
    .object({ ...fields, ...limit })
    .strict()
    .refine(needsTimeout, {
      message: `onTimeout needs a timeout: add timeout (like "${exampleTimeout}") or remove onTimeout`,
      path: ['onTimeout'],
    });
}

/** A role name as the API's authentication layer asserts it: "incident-commander", "security-lead". */
export const Role = z
  .string({ error: 'expected a role name, like "incident-commander"' })
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'expected a role name of letters, digits, ".", "_" and "-", like "incident-commander"',
  );

export const TaskParams = personWait(
  {
    instructions: z
      .string({ error: 'expected instructions for the person doing the task' })
      .trim()
      .min(1, 'expected instructions for the person doing the task'),
    /** Who may complete it; anyone when absent. */
    roles: z
      .array(Role)
      .min(1, 'expected at least one role, or leave roles out so that anyone may complete the task')
      .optional(),
  },
  '4h',
);
export type TaskParams = z.output<typeof TaskParams>;

/** Actions the step runner carries out inside the workflow: they have no activity. */
export const TASK_ACTIONS = defineActions({
  task: {
    summary: "A person's work: waits until an operator completes it (completeTask), up to an optional timeout.",
    params: TaskParams,
  },
});

export type WorkflowActionName = keyof typeof TASK_ACTIONS;
export const WORKFLOW_ACTION_NAMES = Object.keys(TASK_ACTIONS) as WorkflowActionName[];

export function isWorkflowAction(name: string): name is WorkflowActionName {
  return Object.prototype.hasOwnProperty.call(TASK_ACTIONS, name);
}
