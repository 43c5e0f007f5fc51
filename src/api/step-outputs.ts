// What the API shows of step outputs: only those of actions that declare them safe (`safeOutput` in the action
// registry, like evidence hashes and archive paths). A connector's or an HTTP request's reply can carry tokens,
// addresses or user data; it stays in the (encrypted) workflow history, not in views any viewer key can read.
import { ACTIONS, isActionName } from '../../domain/actions/index';
import type { IncidentClient } from '../client';

/** The view with the outputs of steps whose action does not declare them safe left out. */
export function withSafeStepOutputs<V extends { steps?: readonly { action: string; output?: unknown }[] }>(view: V): V {
  if (!view.steps) return view;
  const steps = view.steps.map((step) => {
    if (step.output === undefined) return step;
    if (isActionName(step.action) && (ACTIONS[step.action] as { safeOutput?: boolean }).safeOutput === true) {
      return step;
    }
    const { output: _hidden, ...rest } = step;
    return rest;
  });
  return { ...view, steps };
}

/** An incident's status (safe step outputs only) and its timeline, as a viewer reads them. */
export async function statusAndTimeline(incidents: IncidentClient, id: string) {
  // One after the other: two concurrent queries can be answered at different points of the workflow's progress,
  // and a timeline older than the status it is shown with (a phase the status says has started, missing) misleads.
  const status = withSafeStepOutputs(await incidents.status(id));
  const timeline = await incidents.timeline(id);
  return { status, timeline };
}
