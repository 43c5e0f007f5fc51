// The replay gate: every history in test/replay/histories (recorded by test/replay/record-histories.ts, or exported
// from production with `temporal workflow show --output json`) must replay against the current workflow code
// without a nondeterminism error. A change to workflows/ that alters the commands an existing incident would
// issue (activities, timers, children, search attributes, in type or order) fails here before it reaches a worker
// that has running incidents. The tampered cases prove the gate bites: a history edited where the workflow code
// decides must fail with DeterminismViolationError, not replay clean.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { PHASES } from '../../domain/incident';
import { bundleWorkflows } from '../../src/worker';

const HISTORIES_DIR = path.resolve(import.meta.dirname, 'histories');
const FILES = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

const INCIDENT_AND_PHASES = ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'];
/** An incident with every phase, and its alert stream's two runs. */
const ALERT_STORM_PARTS = [...INCIDENT_AND_PHASES, 'alerts', 'alerts-run-2'];
/** An incident with every phase, its alert stream's one run, and its follow-up reminders. */
const QUIET_CLOSE_PARTS = [...INCIDENT_AND_PHASES, 'alerts', 'follow-ups'];

/**
 * What test/replay/record-histories.ts writes, and test/e2e/crash-recovery.test.ts with RECORD_HISTORIES=1: each
 * scenario's incident, every child it started (phases, follow-up reminders) and each run of its alert stream.
 */
/** Both runs of an incident that continued as new, and its five phase children. */
const CONTINUED_PARTS = ['incident', 'incident-run-2', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'];

const RECORDED = {
  'happy-path': ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'],
  'escalation-chain': ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'],
  // Declared a false positive while waiting in eradication: recovery and post-incident never start.
  'p0-raise': ['incident', 'detect', 'contain', 'eradicate'],
  // Labels from alerts: the alert-labels patch marker, and fresh facts sent to the running phase when a label arrives.
  'alert-labels': ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'],
  // The escalation chain with its timers kept while their deadlines stay the same (the stable-timers patch).
  'stable-timers': ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'],
  // A worker SIGKILLed while containment's notification was in flight: that attempt lost, retried on a new worker.
  'worker-kill-mid-step': ['incident', 'detect', 'contain', 'eradicate', 'recover', 'post-incident'],
  // Still open, waiting in eradication: its escalation timer armed before a dev server restart fired after it.
  'server-restart-mid-timer': ['incident', 'detect', 'contain', 'eradicate'],
  // A storm of repeats through the alert stream: its first run passes its history bound and continues as new
  // carrying the counts not sent yet (stream-carries-queue); the second ends at close.
  'alert-storm': ALERT_STORM_PARTS,
  // Opened with an alert's labels, alerts through the stream, status updates on cadence, resolved automatically
  // after a quiet period, closed with its review recorded and a follow-up whose reminder outlives it.
  'quiet-close': QUIET_CLOSE_PARTS,
  // Both again after the baseline patch: one marker per workflow stands for every patch they take.
  'baseline-alert-storm': ALERT_STORM_PARTS,
  'baseline-quiet-close': QUIET_CLOSE_PARTS,
  // quiet-close under the second baseline: each phase's last step result rides in the phase's result.
  'phase-end-quiet-close': QUIET_CLOSE_PARTS,
  // quiet-close under the third baseline: phase children of the types born with it (no marker of their own), and
  // only changed search attributes upserted.
  'phase-types-quiet-close': QUIET_CLOSE_PARTS,
  // quiet-close under the fourth baseline: the types born with it run their automated steps as local activities.
  'local-steps-quiet-close': QUIET_CLOSE_PARTS,
  // continue-as-new with a note repeated in the second run under the first run's update id: answered, not applied.
  'repeat-after-continue-as-new': CONTINUED_PARTS,
  // A long incident that continued as new while its detect phase waited on a task: both runs and every child.
  'continue-as-new': CONTINUED_PARTS,
  // The same under the fourth baseline: the second run checks on the detect child the first run started.
  'watched-continue-as-new': CONTINUED_PARTS,
  // The same once the first run asks the detect child it started to report its end only once.
  'asked-once-continue-as-new': CONTINUED_PARTS,
  // Opened with a detector's first alerts; the stream a later alert starts reads them before it takes that alert.
  'opening-alerts': [...INCIDENT_AND_PHASES, 'alerts'],
  // A second run whose task that recorded nothing (the post-incident child's result) was followed at once by an empty
  // one, at its continue-as-new bound: replay merges the two (test below).
  'merged-task-continue-as-new': ['incident-run-2'],
};

/** A history as proto JSON (the CLI's format); events are edited in place by the tamper cases. */
interface HistoryJSON {
  events: Record<string, unknown>[];
}
type Attributes<K extends string> = Record<K, Record<string, unknown>>;

function load(file: string): HistoryJSON {
  return JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as HistoryJSON;
}

/** The workflow id a replay runs under: the file name (histories do not carry one; the workflows never read it). */
function replayId(file: string): string {
  return path.basename(file, '.json');
}

let bundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleWorkflows();
});

describe('replay gate', () => {
  it('holds the recorded scenarios, each incident with its phase children', () => {
    const expected = Object.entries(RECORDED).flatMap(([scenario, parts]) =>
      parts.map((part) => `${scenario}.${part}.json`),
    );
    expect(FILES).toEqual(expect.arrayContaining(expected));
  });

  it("keeps both step-report paths under test: every result signalled, and a phase's last in its result", () => {
    const resultSignals = (file: string): string[] =>
      load(file).events.flatMap((e) => {
        const signal = (e as Attributes<'signalExternalWorkflowExecutionInitiatedEventAttributes'>)
          .signalExternalWorkflowExecutionInitiatedEventAttributes;
        const payload = (signal?.input as { payloads: { data: string }[] } | undefined)?.payloads[0];
        if (!payload) return [];
        const event = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
          type: string;
          result?: { stepId: string };
        };
        return event.type === 'result' && event.result ? [event.result.stepId] : [];
      });
    // Before phase-end-in-result: each step's result is signalled. After: a one-step phase signals none, and
    // containment signals only the notification that ended while its task still waited.
    expect(resultSignals('baseline-quiet-close.detect.json')).toEqual(['notify-responders']);
    expect(resultSignals('baseline-quiet-close.contain.json')).toEqual(['tell-contained', 'shed-load']);
    expect(resultSignals('phase-end-quiet-close.detect.json')).toEqual([]);
    expect(resultSignals('phase-end-quiet-close.contain.json')).toEqual(['tell-contained']);
    expect(resultSignals('phase-end-quiet-close.recover.json')).toEqual([]);
  });

  it('keeps both phase-type paths under test: children with the baseline marker, and born-patched types without', () => {
    const types = (history: HistoryJSON, attributes: string): string[] =>
      history.events.flatMap((e) => {
        const name = ((e as Attributes<string>)[attributes]?.workflowType as { name: string } | undefined)?.name;
        return name ? [name] : [];
      });
    const eventTypes = (file: string): string[] => load(file).events.map((e) => String(e.eventType));
    for (const phase of PHASES) {
      const before = `phase-end-quiet-close.${phase}.json`;
      const after = `phase-types-quiet-close.${phase}.json`;
      expect(eventTypes(before), before).toContain('EVENT_TYPE_MARKER_RECORDED');
      expect(eventTypes(after), after).not.toContain('EVENT_TYPE_MARKER_RECORDED');
      expect(eventTypes(after), after).not.toContain('EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
      expect(types(load(after), 'workflowExecutionStartedEventAttributes')[0], after).toMatch(/PhaseV2$/);
    }
    const incident = load('phase-types-quiet-close.incident.json');
    expect(
      types(incident, 'startChildWorkflowExecutionInitiatedEventAttributes').filter((t) => t.includes('Phase')),
    ).toEqual(['detectPhaseV2', 'containPhaseV2', 'eradicatePhaseV2', 'recoverPhaseV2', 'postIncidentPhaseV2']);
    // Every attribute once at the opening, then only the one that changed (the phase, the status).
    const upserted = incident.events.flatMap((e) => {
      const upsert = (e as Attributes<'upsertWorkflowSearchAttributesEventAttributes'>)
        .upsertWorkflowSearchAttributesEventAttributes;
      const fields = (upsert?.searchAttributes as { indexedFields: Record<string, unknown> } | undefined)
        ?.indexedFields;
      return fields && !('TemporalChangeVersion' in fields) ? [Object.keys(fields).length] : [];
    });
    expect(upserted[0]).toBe(6);
    expect(upserted.slice(1).every((n) => n === 1)).toBe(true);
    const before = load('phase-end-quiet-close.incident.json').events.filter((e) =>
      String(e.eventType).includes('UPSERT'),
    ).length;
    expect(upserted.length + 1).toBeLessThan(before);
  });

  it('keeps both step paths under test: scheduled activities, and local activities in the types born with them', () => {
    const history = (scenario: string, phase: string): HistoryJSON => load(`${scenario}.${phase}.json`);
    const eventTypes = (h: HistoryJSON): string[] => h.events.map((e) => String(e.eventType));
    /** The actions a phase child ran, in order: scheduled activities, or local-activity markers. */
    const actions = (h: HistoryJSON): string[] =>
      h.events.flatMap((e) => {
        const scheduled = (e as Attributes<'activityTaskScheduledEventAttributes'>)
          .activityTaskScheduledEventAttributes;
        if (scheduled) return [(scheduled.activityType as { name: string }).name];
        const marker = (e as Attributes<'markerRecordedEventAttributes'>).markerRecordedEventAttributes;
        const data = (marker?.details as Record<string, { payloads: { data: string }[] }> | undefined)?.data;
        if (marker?.markerName !== 'core_local_activity' || !data) return [];
        const decoded = JSON.parse(Buffer.from(data.payloads[0]!.data, 'base64').toString('utf8')) as {
          activity_type: string;
        };
        return [decoded.activity_type];
      });
    let ran = 0;
    for (const phase of PHASES) {
      const before = history('phase-types-quiet-close', phase);
      const after = history('local-steps-quiet-close', phase);
      const name = `local-steps-quiet-close.${phase}.json`;
      // The same actions in the same order, each a marker in place of scheduled, started and completed.
      expect(actions(after), name).toEqual(actions(before));
      ran += actions(after).length;
      expect(eventTypes(after), name).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
      expect(
        after.events.filter((e) => String(e.eventType) === 'EVENT_TYPE_MARKER_RECORDED').length,
        `${name}: a marker per action and no patch marker`,
      ).toBe(actions(after).length);
      // At least five events fewer per action: a marker for three activity events and the workflow task it woke.
      expect(before.events.length - after.events.length, name).toBeGreaterThanOrEqual(5 * actions(before).length);
      expect(
        (
          (after.events[0] as Attributes<'workflowExecutionStartedEventAttributes'>)
            .workflowExecutionStartedEventAttributes.workflowType as { name: string }
        ).name,
      ).toMatch(/PhaseV3$/);
    }
    expect(ran).toBeGreaterThan(0);
  });

  it('keeps an update repeated after continuing as new under test: carried by id, answered in the next run', () => {
    const updateIds = (file: string): string[] =>
      load(file).events.flatMap((e) => {
        const accepted = (e as Attributes<'workflowExecutionUpdateAcceptedEventAttributes'>)
          .workflowExecutionUpdateAcceptedEventAttributes;
        return accepted ? [String(accepted.protocolInstanceId)] : [];
      });
    expect(updateIds('repeat-after-continue-as-new.incident.json')).toContain('note-1');
    expect(updateIds('repeat-after-continue-as-new.incident-run-2.json')[0]).toBe('note-1');
    const started = load('repeat-after-continue-as-new.incident-run-2.json')
      .events[0] as Attributes<'workflowExecutionStartedEventAttributes'>;
    const payload = (started.workflowExecutionStartedEventAttributes.input as { payloads: { data: string }[] })
      .payloads[0]!;
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
      carried?: { appliedUpdateIds?: string[] };
    };
    expect(input.carried?.appliedUpdateIds).toContain('note-1');
  });

  it('keeps both continued-run paths under test: the earlier run’s child awaited, and checked on as well', () => {
    const signalsToChildren = (file: string): string[] =>
      load(file).events.flatMap((e) => {
        const signal = (e as Attributes<'signalExternalWorkflowExecutionInitiatedEventAttributes'>)
          .signalExternalWorkflowExecutionInitiatedEventAttributes;
        return signal ? [String(signal.signalName)] : [];
      });
    expect(signalsToChildren('continue-as-new.incident-run-2.json')).toEqual(['stepDecision']);
    expect(signalsToChildren('watched-continue-as-new.incident-run-2.json')).toEqual([
      'reportPhaseEnd',
      'stepDecision',
    ]);
  });

  it('keeps both paths of a first run found due to continue again under test: the child asked each time, and once', () => {
    const asks = (file: string) =>
      load(file).events.filter(
        (e) =>
          (e as Attributes<'signalExternalWorkflowExecutionInitiatedEventAttributes'>)
            .signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'reportPhaseEnd',
      ).length;
    expect(asks('watched-continue-as-new.incident.json')).toBeGreaterThan(1);
    expect(asks('asked-once-continue-as-new.incident.json')).toBe(1);
  });

  it('keeps both alert-stream starts under test: reading the opening alerts first, and not', () => {
    const commands = (file: string): string[] =>
      load(file).events.flatMap((e) => {
        const marker = (e as Attributes<'markerRecordedEventAttributes'>).markerRecordedEventAttributes;
        const signal = (e as Attributes<'signalExternalWorkflowExecutionInitiatedEventAttributes'>)
          .signalExternalWorkflowExecutionInitiatedEventAttributes;
        if (marker?.markerName === 'core_local_activity') return ['local activity'];
        return signal ? [String(signal.signalName)] : [];
      });
    // A repeat of an opening alert changes only the counts; the new fingerprint goes, with counts of all four.
    expect(commands('opening-alerts.alerts.json')).toEqual([
      'local activity',
      'alertCounts',
      'alertBatch',
      'alertCounts',
    ]);
    expect(commands('quiet-close.alerts.json')).not.toContain('local activity');
  });

  describe('replays every recorded history clean', () => {
    // One replay worker for all files; each file's outcome is its own test below.
    let outcomes: Map<string, Error | undefined> | undefined;
    const replayAll = async (): Promise<Map<string, Error | undefined>> => {
      if (!outcomes) {
        const results = new Map<string, Error | undefined>();
        const histories = FILES.map((file) => ({ workflowId: replayId(file), history: load(file) }));
        for await (const result of Worker.runReplayHistories(
          { workflowBundle: bundle, replayName: 'replay-gate' },
          histories,
        )) {
          results.set(result.workflowId, result.error as Error | undefined);
        }
        outcomes = results;
      }
      return outcomes;
    };

    it.each(FILES)('%s', async (file) => {
      const results = await replayAll();
      expect(results.has(replayId(file)), `${file} was not replayed`).toBe(true);
      const error = results.get(replayId(file));
      if (error)
        throw new Error(`${file} does not replay against the current workflow code: ${error.message}`, {
          cause: error,
        });
    });
  });

  describe('fails a history the workflow code no longer matches', () => {
    interface Tamper {
      name: string;
      file: string;
      /** Edits one event the workflow code decides; returns how many events it changed. */
      edit(history: HistoryJSON): number;
      /** What core reports, in its words. */
      error: RegExp;
    }

    /** Renames the first scheduled activity, when it is `from`, to `to`: a step run as a different action. */
    const firstActivityAs =
      (from: string, to: string) =>
      (history: HistoryJSON): number => {
        const event = history.events.find((e) => 'activityTaskScheduledEventAttributes' in e) as
          Attributes<'activityTaskScheduledEventAttributes'> | undefined;
        const type = event?.activityTaskScheduledEventAttributes.activityType as { name: string } | undefined;
        if (type?.name !== from) return 0;
        type.name = to;
        return 1;
      };
    /** Renames the workflow's own type, when it is `from`, to `to`: a history replayed as another type. */
    const startedAs =
      (from: string, to: string) =>
      (history: HistoryJSON): number => {
        const started = history.events[0] as Attributes<'workflowExecutionStartedEventAttributes'>;
        const type = started.workflowExecutionStartedEventAttributes?.workflowType as { name: string } | undefined;
        if (type?.name !== from) return 0;
        type.name = to;
        return 1;
      };
    /** Renames the run's patch baseline marker, when it is `from`, to `to`: a run that first ran another release. */
    const baselineAs =
      (from: string, to: string) =>
      (history: HistoryJSON): number => {
        const encode = (id: string) => Buffer.from(JSON.stringify({ id, deprecated: false })).toString('base64');
        const payload = history.events
          .map((e) => (e as Partial<Attributes<'markerRecordedEventAttributes'>>).markerRecordedEventAttributes)
          .map(
            (marker) =>
              (marker?.details as { 'patch-data'?: { payloads: { data: string }[] } } | undefined)?.['patch-data'],
          )
          .find((data) => data?.payloads[0]?.data === encode(from))?.payloads[0];
        if (!payload) return 0;
        payload.data = encode(to);
        return 1;
      };
    const escalationAsOtherActivityError =
      /Activity type of scheduled event 'notify\.send' does not match activity type of activity command 'notifyEscalation'/;

    const tampers: Tamper[] = [
      {
        name: 'an escalation notification scheduled as a different activity',
        file: 'escalation-chain.incident.json',
        edit: firstActivityAs('notifyEscalation', 'notify.send'),
        error: escalationAsOtherActivityError,
      },
      {
        // A running incident's partial history is checked as far as it goes, not skipped.
        name: 'the escalation fired after a server restart scheduled as a different activity',
        file: 'server-restart-mid-timer.incident.json',
        edit: firstActivityAs('notifyEscalation', 'notify.send'),
        error: escalationAsOtherActivityError,
      },
      {
        name: 'the second phase started as the first phase’s workflow',
        file: 'happy-path.incident.json',
        edit(history) {
          const starts = history.events.filter(
            (e) => 'startChildWorkflowExecutionInitiatedEventAttributes' in e,
          ) as Attributes<'startChildWorkflowExecutionInitiatedEventAttributes'>[];
          const type = starts[1]?.startChildWorkflowExecutionInitiatedEventAttributes.workflowType as
            { name: string } | undefined;
          if (type?.name !== 'containPhase') return 0;
          type.name = 'detectPhase';
          return 1;
        },
        error:
          /Child workflow type of scheduled event 'detectPhase' does not match child workflow type of command 'containPhase'/,
      },
      {
        name: 'a containment step run as a different action',
        file: 'happy-path.contain.json',
        edit: firstActivityAs('evidence.snapshot', 'notify.send'),
        error:
          /Activity type of scheduled event 'notify\.send' does not match activity type of activity command 'evidence\.snapshot'/,
      },
      {
        name: 'an alert that no longer brings the label the running phase was sent',
        file: 'alert-labels.incident.json',
        edit(history) {
          // The first alert added source_ip during containment, so the incident signalled the phase fresh facts.
          // Without that label nothing new arrives, the code sends no signal, and the recorded one is unexpected.
          const event = history.events.find(
            (e) =>
              (e as Attributes<'workflowExecutionSignaledEventAttributes'>).workflowExecutionSignaledEventAttributes
                ?.signalName === 'alert',
          ) as Attributes<'workflowExecutionSignaledEventAttributes'> | undefined;
          const payload = (
            event?.workflowExecutionSignaledEventAttributes.input as { payloads: { data: string }[] } | undefined
          )?.payloads[0];
          if (!payload) return 0;
          const alert = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
            labels: Record<string, string>;
          };
          if (alert.labels.source_ip === undefined) return 0;
          delete alert.labels.source_ip;
          payload.data = Buffer.from(JSON.stringify(alert)).toString('base64');
          return 1;
        },
        error: /HistoryEvent\(id: \d+, SignalExternalWorkflowExecutionInitiated\)/,
      },
      {
        // A born-patched type replayed as the type it replaces: with no marker in the history, the old type takes
        // every patch's old path (no step reports at all) and the recorded signals are unexpected.
        name: 'a containment child of a born-patched type replayed as the type before it',
        file: 'phase-types-quiet-close.contain.json',
        edit: startedAs('containPhaseV2', 'containPhase'),
        error: /SignalExternalWorkflowExecutionInitiated/,
      },
      {
        // Its steps are local-activity markers: replayed as the type before it, which schedules them as activities,
        // the first step's command meets a marker.
        name: 'a containment child that ran its steps as local activities replayed as the type before it',
        file: 'local-steps-quiet-close.contain.json',
        edit: startedAs('containPhaseV3', 'containPhaseV2'),
        error: /Missing associated machine for LocalActivity/,
      },
      {
        // Its post-incident child's result came in a task that recorded nothing, followed at once by an empty task,
        // at the run's continue-as-new bound. Replay merges the two tasks: the rule before the patch read the second
        // task's length there and asked the child to report its end, which the worker, at the first task's length,
        // had not (the replay failure a CI run had).
        name: 'a run at its continue-as-new bound replayed under the baseline before continue-at-recorded-length',
        file: 'merged-task-continue-as-new.incident-run-2.json',
        edit: baselineAs('patches-through-2026-12-05', 'patches-through-2026-12-03-d'),
        error:
          /Signal external WF machine does not handle this event: HistoryEvent\(id: 106, WorkflowExecutionUpdateAccepted\)/,
      },
    ];

    it.each(tampers)('$name ($file)', async ({ file, edit, error }) => {
      const original = load(file);
      const tampered = load(file);
      // The tamper must have found its event: a no-op edit would test nothing.
      expect(edit(tampered)).toBe(1);
      expect(JSON.stringify(tampered)).not.toBe(JSON.stringify(original));

      const replay = Worker.runReplayHistory(
        { workflowBundle: bundle, replayName: 'replay-gate-tampered' },
        tampered,
        `${replayId(file)}.tampered`,
      );
      // Rejects only with a nondeterminism error; replaying clean, or failing for any other reason, fails the test.
      const failure = await replay.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure, `tampered ${file} replayed clean`).toBeInstanceOf(DeterminismViolationError);
      expect((failure as Error).message).toMatch(error);
    });
  });
});
