// What the drill runner counts as in flight before it moves the clock, read from a whole history (not its last
// event), and how it keeps the times of timeline events read live over those of a replayed final read.
import type { History } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../domain/incident';
import { historyFacts, withLiveTimes } from '../../src/drills/runner';

const { EventType: T } = proto.temporal.api.enums.v1;
const at = (ms: number) => ({ seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

function history(...events: Array<Record<string, unknown>>): History {
  return { events: events.map((e, i) => ({ eventId: i + 1, eventTime: at(1_000 * i), ...e })) } as unknown as History;
}

const taskDone = [
  { eventType: T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED },
  { eventType: T.EVENT_TYPE_WORKFLOW_TASK_STARTED },
  { eventType: T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED },
];

describe('historyFacts', () => {
  it('sees a signal to another workflow in flight behind an update completed in the same task', () => {
    const h = history(
      { eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED },
      ...taskDone,
      { eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED },
      {
        eventType: T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        signalExternalWorkflowExecutionInitiatedEventAttributes: { workflowExecution: { workflowId: 'child' } },
      },
      { eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED },
    );
    expect(historyFacts('w', h).inFlight).toEqual(['signal to child']);
    const delivered = history(...h.events!.map((e) => ({ ...e })), {
      eventType: T.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
      externalWorkflowExecutionSignaledEventAttributes: { initiatedEventId: 6 },
    });
    expect(historyFacts('w', delivered).inFlight).toEqual([]);
  });

  it('sees a child start, an activity and a workflow task in flight, and none once closed', () => {
    const busy = history(
      { eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED },
      ...taskDone,
      {
        eventType: T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        startChildWorkflowExecutionInitiatedEventAttributes: { workflowId: 'w.contain' },
      },
      {
        eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activityTaskScheduledEventAttributes: { activityType: { name: 'notify.send' } },
      },
      {
        eventType: T.EVENT_TYPE_TIMER_STARTED,
        timerStartedEventAttributes: { timerId: '1', startToFireTimeout: { seconds: Long.fromNumber(60) } },
      },
      { eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED },
      { eventType: T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED },
    );
    const facts = historyFacts('w', busy);
    expect(facts.inFlight).toEqual(['workflow task (event 9)', 'child start w.contain', 'activity notify.send']);
    expect(facts.timers).toEqual([{ workflowId: 'w', timerId: '1', startedAt: 6_000, firesAt: 6_000 + 60_000 }]);
    const closed = history(...busy.events!.map((e) => ({ ...e })), {
      eventType: T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    });
    expect(historyFacts('w', closed).inFlight).toEqual([]);
  });
});

describe('withLiveTimes', () => {
  const opened = { at: 1_000, type: 'opened' } as unknown as TimelineEvent;
  const skipped = { at: 2_000, type: 'step_skipped', stepId: 'a' } as unknown as TimelineEvent;
  const closedEvent = { at: 9_000, type: 'closed' } as unknown as TimelineEvent;

  it('keeps the live time of every event read live, and takes the rest from the final read', () => {
    const replayed = [opened, { ...skipped, at: 5_000 }, closedEvent];
    expect(withLiveTimes([opened, skipped], replayed)).toEqual([opened, skipped, closedEvent]);
  });

  it('refuses a final timeline that does not extend the live one', () => {
    expect(() => withLiveTimes([opened, skipped], [opened, closedEvent])).toThrow(/does not extend/);
  });
});
