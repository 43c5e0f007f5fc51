// What the API shows of step outputs: only those of actions that declare them safe (`safeOutput` in the action
// registry, like evidence hashes and archive paths). A connector's or an HTTP request's reply can carry tokens,
// addresses or user data; it stays in the (encrypted) workflow history, not in views any viewer key can read.
import { ACTIONS, isActionName } from '../../domain/actions/index';
import type { IncidentClient } from '../client';

/** Each item with its output left out unless its action declares outputs safe. */
export function safeOutputs<T extends { action: string; output?: unknown }>(items: readonly T[]): T[] {
  return items.map((item) => {
    if (item.output === undefined) return item;
    if (isActionName(item.action) && (ACTIONS[item.action] as { safeOutput?: boolean }).safeOutput === true) {
      return item;
    }
    const { output: _hidden, ...rest } = item;
    return rest as T;
  });
}

/** The view with the outputs of steps whose action does not declare them safe left out. */
export function withSafeStepOutputs<V extends { steps?: readonly { action: string; output?: unknown }[] }>(view: V): V {
  return view.steps ? { ...view, steps: safeOutputs(view.steps) } : view;
}

/** An incident's status (safe step outputs only) and its timeline, as a viewer reads them. */
export async function statusAndTimeline(incidents: IncidentClient, id: string) {
  // One after the other: two concurrent queries can be answered at different points of the workflow's progress,
  // and a timeline older than the status it is shown with (a phase the status says has started, missing) misleads.
  const status = withSafeStepOutputs(await incidents.status(id));
  const timeline = await incidents.timeline(id);
  return { status, timeline };
}
