// Every patched() id the workflows use, with what it changed and since when. A running incident keeps the code path
// it started on: patched(id) is true for an execution that first ran this code (it records a marker), false on replay
// of a history that ran past that point without the marker.
//
// Retiring a patch, in two releases:
// 1. deprecatePatch(id) (and delete the old path) once no execution that started before the patch can still be
//    running or be replayed: every incident opened before `since` is closed, and no history in test/replay/histories
//    lacks the marker where the code asks (the table below says which recorded histories carry it). Incidents have no
//    maximum age (a manual phase waits for an operator indefinitely), so check with
//    `temporal workflow list --query "WorkflowType='incidentWorkflow' AND ExecutionStatus='Running' AND StartTime < '<since>'"`.
//    Histories recorded before the patch must be kept (they are what proves old incidents still replay), so a patch
//    whose old path a recorded history takes stays until that history is deliberately retired.
// 2. Delete the deprecatePatch call once no running execution has the old marker's decision pending (every incident
//    that started before step 1 shipped is closed).
//
// Histories recorded after a baseline (BASELINES below) carry its one marker in place of the markers of the patches
// it lists (patches-through-2026-12-03: baseline-alert-storm, baseline-quiet-close, continue-as-new;
// patches-through-2026-12-03-b: phase-end-quiet-close; patches-through-2026-12-03-c: phase-types-quiet-close, whose
// phase children are of the types born with it and carry no marker at all; patches-through-2026-12-03-d:
// local-steps-quiet-close, whose children are the types born with it and run their steps as local activities, and
// watched-continue-as-new; patches-through-2026-12-05: merged-task-continue-as-new); `recordedWith` names the histories
// recorded with a patch's own marker.
//
// Status (checked against test/replay/histories): none can be retired yet. happy-path, escalation-chain and p0-raise
// predate every patch and take the old paths (p0-raise is a false positive without compensation, and its phase
// children report no step events); alert-labels predates stable-timers and status-update-stable.
import { patched } from '@temporalio/workflow';

export interface PatchInfo {
  /** What running incidents started after it do differently. */
  changed: string;
  /** The release (date) it shipped in; executions started before it take the old path. */
  since: string;
  /** Recorded histories (test/replay/histories) that carry its marker; every other one replays the old path. */
  recordedWith: readonly string[];
}

export const PATCHES = {
  'step-events': {
    changed: 'phase children report each step to the incident as it happens (stepEvent); before, only in their result',
    since: '2026-11-23',
    recordedWith: [
      'alert-labels',
      'alert-storm',
      'quiet-close',
      'server-restart-mid-timer',
      'stable-timers',
      'worker-kill-mid-step',
    ],
  },
  'false-positive-compensates': {
    changed: 'a false positive stops the running phase (stopPhase) and undoes completed steps; before, it cancelled it',
    since: '2026-11-23',
    recordedWith: [],
  },
  'phase-failure-compensates': {
    changed: 'a failed phase undoes completed steps and ends the incident as failed; before, the next phase started',
    since: '2026-11-23',
    recordedWith: [],
  },
  'status-updates': {
    changed: "an active incident sends internal status updates at its severity's cadence",
    since: '2026-11-23',
    recordedWith: [
      'alert-labels',
      'alert-storm',
      'quiet-close',
      'server-restart-mid-timer',
      'stable-timers',
      'worker-kill-mid-step',
    ],
  },
  'status-update-stable': {
    changed:
      'a status update first fires the escalations due at its instant and lists actions in runbook order, so it is ' +
      'the same whatever order simultaneous timers and parallel steps finish in',
    since: '2026-11-23',
    recordedWith: ['quiet-close', 'stable-timers'],
  },
  'alert-labels': {
    changed:
      "a firing alert's labels (and source) are merged into alertLabels and the running phase gets fresh facts; " +
      'before, later alerts were only recorded',
    since: '2026-11-23',
    recordedWith: ['alert-labels', 'alert-storm', 'quiet-close'],
  },
  'stable-timers': {
    changed:
      'escalation and status-update timers are kept while their deadline stays the same; before, re-armed on ' +
      'every change (a cancelled and a new timer)',
    since: '2026-11-23',
    recordedWith: ['alert-storm', 'quiet-close', 'server-restart-mid-timer', 'stable-timers', 'worker-kill-mid-step'],
  },
  'tasks-beside-steps': {
    changed:
      "a phase's step waits only for the steps before it that need no person and the steps its after: names, so " +
      "people's tasks and approval gates run beside later automated steps; before, every entry waited for the last",
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close', 'server-restart-mid-timer', 'worker-kill-mid-step'],
  },
  'alert-lifecycle': {
    changed:
      'a firing alert with a higher severity raises the incident, one after resolution is a recurrence (timeline, ' +
      'notification, L1), and the owner is told when every alert has resolved',
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close'],
  },
  'sender-recorded': {
    changed:
      'an update sent without an API role (straight to Temporal) is marked breakGlass on the timeline; before, ' +
      'updates were recorded with `by` only. (The commander-only rules and runbook-role bindings are validator ' +
      'checks: they issue no commands, so they apply to running incidents without a patch.)',
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close', 'worker-kill-mid-step'],
  },
  'record-at-close': {
    changed:
      "a closing incident writes its final review and its summary to the data directory (the reports' store); " +
      'before, nothing was recorded at close',
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close', 'worker-kill-mid-step'],
  },
  'auto-resolve': {
    changed:
      "a runbook's autoResolve resolves the incident (as auto-resolve) once every alert has resolved and none " +
      'fired for its quiet period, after containment; before, autoResolve was not read',
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close'],
  },
  'combined-severity': {
    changed:
      "an incident opened with an alert's labels is classified by both procedure documents' criteria and the " +
      "opener's severity (domain/classification.ts); before, by the event type or the opener's severity only",
    since: '2026-12-03',
    recordedWith: ['quiet-close'],
  },
  'stream-carries-queue': {
    changed:
      'an alert stream past its history bound continues as new at once, carrying its queued alerts and unsent ' +
      'counts; before, it waited for a pause in the storm, which a storm that never paused could hold past ' +
      "Temporal's 10,000-signal limit",
    since: '2026-12-03',
    recordedWith: ['alert-storm'],
  },
  'status-update-on-cadence': {
    changed:
      'a status update is written as of the instant it was due and the next falls an interval after that instant; ' +
      'before, both counted from when its timer fired, so a loaded worker shifted the text ("Open for 1h1s") and ' +
      'the cadence',
    since: '2026-12-03',
    recordedWith: ['quiet-close'],
  },
  'follow-ups-outlive': {
    changed:
      'a closing incident with open follow-ups whose owners are still to be reminded starts their reminders ' +
      '(followUpRemindersWorkflow, an abandoned child that outlives it); before, no reminder was sent after close',
    since: '2026-12-03',
    recordedWith: ['quiet-close'],
  },
  'registry-recurrence': {
    changed:
      'the registry remembers a resolved incident that closed for its enhanced-monitoring window (48 h), and an ' +
      'alert for its dedup key in that window opens an incident linked to it as a recurrence (timeline, ' +
      'notification, L1); before, the key was forgotten at close and the next alert opened an unlinked incident. ' +
      'Asked by the registry workflow at the first close it could remember: a run that closed incidents before ' +
      'the patch forgets them until it continues as new.',
    since: '2026-12-03',
    recordedWith: ['registry-recurrence'],
  },
  'alert-delivery-bounded': {
    changed:
      'an alert stream sends counts alone ever less often as a storm goes on (every 10 s, then every minute, then ' +
      "every ten minutes) and forwards at most 30 status changes an hour, so an incident's events per hour do not " +
      'grow with the alert rate; before, counts every 10 s and every status change, however long the storm',
    since: '2026-12-03',
    recordedWith: ['alert-storm', 'quiet-close'],
  },
  'incident-continues-as-new': {
    changed:
      'a long incident continues as new (past 8,000 history events, at a quiet moment) carrying its state; its ' +
      'phase children are started abandoned and report their end (phase_ended), so a later run can await a child ' +
      'an earlier one started; before, an incident kept one run for its whole life and children ended with it',
    since: '2026-12-03',
    recordedWith: [],
  },
  'refire-after-quiet': {
    changed:
      'an alert stream with bounded delivery forwards a firing alert that follows 10 minutes with nothing firing ' +
      'even past the 30 status changes an hour (at most 4 such an hour), so a resolved incident hears of a real ' +
      're-fire (a recurrence) after a flapping detector used the hour; before, it was counted only',
    since: '2026-12-03',
    recordedWith: [],
  },
  'phase-end-in-result': {
    changed:
      "a phase child's last step result reaches the incident in the phase's own result, not by a stepEvent signal " +
      'just before it (one signal and one workflow task fewer on each side per phase); before, every result was ' +
      'signalled. Results of steps that end while others in the phase still run are still signalled as they happen.',
    since: '2026-12-03',
    recordedWith: [],
  },
  'phase-types-born-patched': {
    changed:
      'new incidents start their phases as the phase child types first shipped with every patch of baseline ' +
      'patches-through-2026-12-03-c (detectPhaseV2 ... postIncidentPhaseV2, workflows/phases/v2.ts): no run of them ' +
      'ever lacked those patches, so they record no patch marker and no TemporalChangeVersion upsert (two events ' +
      'fewer per phase); before, detectPhase ... recorded the baseline marker',
    since: '2026-12-03',
    recordedWith: [],
  },
  'search-attributes-changed-only': {
    changed:
      'the incident upserts only the search attributes that changed since it last published them, and none when ' +
      'none did (the detect phase starting right after the opening); before, all six at every publish',
    since: '2026-12-03',
    recordedWith: [],
  },
  'steps-as-local-activities': {
    changed:
      "a phase's automated steps make their first attempt (at most 2 s) as a local activity, inside the workflow " +
      'task that reaches them, and go on as scheduled activities only past it: a one-step phase child is one ' +
      'workflow task and a marker (6 history events, 11 before), and the first action runs without a round trip ' +
      'through the task queue. New incidents start their phases as the types born with it ' +
      '(detectPhaseV3 ... postIncidentPhaseV3, workflows/phases/v3.ts), which record no patch marker; before, each ' +
      'step was a scheduled activity (scheduled, started, completed and the workflow task its result woke)',
    since: '2026-12-03',
    recordedWith: [],
  },
  'earlier-child-watched': {
    changed:
      'a run that continued as new while a phase child ran checks that child at its start and every 6 hours (it ' +
      'asks it again to report its end); a child closed without reporting (terminated or reset outside the ' +
      'engine) fails the phase; before, the run waited for its report forever',
    since: '2026-12-03',
    recordedWith: [],
  },
  'phase-child-asked-once': {
    changed:
      'a run that may continue as new asks the phase child it started to report its end at most once, and not at ' +
      'all once it has the result (a signal that can only fail); it checks a child only when an earlier run ' +
      'started it. Asked on its own, where it matters; before, every time the run found itself due to continue ' +
      "while not quiet enough to, the child was asked again and checked as an earlier run's (two signals, " +
      "usually in one workflow task), and at a child's result two failed signals, where an update arriving " +
      'with the failure of one shared its workflow task',
    since: '2026-12-04',
    recordedWith: ['asked-once-continue-as-new'],
  },
  'severity-without-labels': {
    changed:
      "an incident opened without labels or a severity is classified by both procedure documents' event-type " +
      'criteria (a system compromise is P0, a suspected data exposure P1, a performance degradation P2), as one ' +
      "opened with labels is; before, by the Fiovana procedures' assess_incident table alone (P3 for all three). " +
      'Asked only where the two differ',
    since: '2026-12-04',
    recordedWith: ['compromise-without-labels'],
  },
  'continue-at-recorded-length': {
    changed:
      'a run decides to continue as new from an estimate of its history length built from its last workflow task ' +
      'that recorded something and the jobs since (workflows/recorded-task.ts); before, from the current task, whose ' +
      'length a replay that merges a task recording nothing with the next one can read later than the worker did (a ' +
      'replay failure in CI)',
    since: '2026-12-05',
    recordedWith: ['merged-task-continue-as-new'],
  },
} as const satisfies Record<string, PatchInfo>;

/**
 * Changes keyed by a workflow's input instead of a marker: only openers since `since` set the input, so no history
 * recorded before it takes the new path, and the change costs no marker events. Listed here beside the patches so
 * every behaviour change for running workflows is in one place.
 */
export const INPUT_KEYED_CHANGES = {
  'opening-alerts': {
    changed:
      "an incident whose input has `alerts` (the intake's delivery that opened it) records them and their counts at " +
      'its opening, instead of through an alert stream started for them (a workflow start, about 17 stream events ' +
      "and 7 of the incident's)",
    since: '2026-12-05',
    recordedWith: ['opening-alerts'],
  },
  'stream-seeds-opening': {
    changed:
      "an alert stream started with `seedOpening` reads its incident's opening alerts (a local activity) into its " +
      'book before any alert it was sent, so its counts include them and repeats of them are not forwarded',
    since: '2026-12-05',
    recordedWith: ['opening-alerts'],
  },
} as const satisfies Record<string, PatchInfo>;

export type PatchId = keyof typeof PATCHES;

/** The patches of the first baseline, in the order they shipped. */
const THROUGH_2026_12_03: readonly PatchId[] = [
  'step-events',
  'false-positive-compensates',
  'phase-failure-compensates',
  'status-updates',
  'status-update-stable',
  'alert-labels',
  'stable-timers',
  'tasks-beside-steps',
  'alert-lifecycle',
  'sender-recorded',
  'record-at-close',
  'auto-resolve',
  'combined-severity',
  'stream-carries-queue',
  'status-update-on-cadence',
  'follow-ups-outlive',
  'registry-recurrence',
  'alert-delivery-bounded',
  'incident-continues-as-new',
  'refire-after-quiet',
];
/**
 * One marker for every patch shipped until then, for workflows first run after they all shipped. Asking patched() for
 * each of them cost a marker and a TemporalChangeVersion upsert per patch in every new incident, phase child and
 * stream (about 20 of an incident's events). A run that asks any of them asks the newest baseline listing it first: a
 * new run records that one marker once and every patch in its list is on; a history recorded before it has no such
 * marker, so on replay the answer falls to the older baseline's marker, then to the patch's own, exactly as before.
 * Equivalent to asking each patch, since a run live past its history answers true to any patch it asks. A new
 * patch is either asked on its own or listed in a new baseline (which lists every earlier patch too); a baseline's
 * list never changes once shipped (histories carry its marker), and retiring a patch in it follows the rule above for
 * the patch itself.
 *
 * Newest first: a new run records only the first.
 */
/** The patches of the fourth baseline, which the fifth lists too. */
const THROUGH_2026_12_03_D: readonly PatchId[] = [
  ...THROUGH_2026_12_03,
  'phase-end-in-result',
  'phase-types-born-patched',
  'search-attributes-changed-only',
  'steps-as-local-activities',
  'earlier-child-watched',
];
const BASELINES: readonly { id: string; patches: ReadonlySet<PatchId> }[] = [
  { id: 'patches-through-2026-12-05', patches: new Set([...THROUGH_2026_12_03_D, 'continue-at-recorded-length']) },
  { id: 'patches-through-2026-12-03-d', patches: new Set(THROUGH_2026_12_03_D) },
  {
    id: 'patches-through-2026-12-03-c',
    patches: new Set([
      ...THROUGH_2026_12_03,
      'phase-end-in-result',
      'phase-types-born-patched',
      'search-attributes-changed-only',
    ]),
  },
  { id: 'patches-through-2026-12-03-b', patches: new Set([...THROUGH_2026_12_03, 'phase-end-in-result']) },
  { id: 'patches-through-2026-12-03', patches: new Set(THROUGH_2026_12_03) },
];
/** The marker a workflow first run with this code records. */
export const BASELINE_PATCH = BASELINES[0]!.id;
/** Every baseline marker a recorded history may carry in place of its patches' own. */
export const BASELINE_PATCHES: readonly string[] = BASELINES.map((b) => b.id);

/**
 * The patches of the baseline a workflow type first shipped with: no run of that type ever lacked them, so it asks
 * no marker for them. Module state is per workflow (the SDK gives each workflow its own module instances), and only a
 * type's entry point sets it (workflows/phases/born-with.ts).
 */
let bornWith: ReadonlySet<PatchId> = new Set();

/** Declares, first thing in a workflow type's function, the baseline the type first shipped with. */
export function typeBornWith(baselineId: string): void {
  const baseline = BASELINES.find((b) => b.id === baselineId);
  if (!baseline) throw new Error(`unknown patch baseline ${baselineId}`);
  bornWith = baseline.patches;
}

/**
 * patched() for a registered id only, through the baseline marker when the id is in it; true without a marker for
 * a patch the running workflow type was born with.
 */
export function isPatched(id: PatchId): boolean {
  if (bornWith.has(id)) return true;
  return BASELINES.some((baseline) => baseline.patches.has(id) && patched(baseline.id)) || patched(id);
}

/** A patch decided once per run, the first time it matters (later calls return the same answer, no new marker). */
export function patchOnce(id: PatchId): () => boolean {
  let decided: boolean | undefined;
  return () => (decided ??= isPatched(id));
}
