// The incident page: phases against their windows (overdue marked), the escalation level with the next timed
// escalation counting down and its trigger, what waits for people with the buttons to answer, every operator update
// as a form (UPDATE_FORMS: one entry per update, so a new update is one more entry), actions with their undo state,
// evidence with hashes and the live timeline. Refreshed every two seconds.
import type { Phase } from '../domain/incident';
import type { IncidentStatusView } from '../workflows/definitions';
import { api, type Permission, refusal, type Session } from './api';
import {
  ActionForm,
  type FieldSpec,
  Failure,
  Section,
  Severity,
  Status,
  Time,
  ago,
  clock,
  duration,
  useNow,
  usePoll,
} from './ui';

const PHASES: readonly Phase[] = ['detect', 'contain', 'eradicate', 'recover', 'post-incident'];

interface TimelineEvent {
  at: number;
  type: string;
  by?: string;
  text: string;
}

/** GET /console/incidents/{id}: the incident's status view (types shared with the engine), worded timeline, policy. */
export interface ConsoleIncident extends Omit<IncidentStatusView, 'timeline'> {
  timeline: TimelineEvent[];
  policy: {
    pinned: boolean;
    phaseWindows: Record<Phase, { fromMs: number; toMs: number }>;
    levels: Record<string, { name: string; respondWithinMs: number }>;
  };
  nextEscalation?: { at: number; trigger: string; toLevel: number; reason: string };
  destructiveSteps: string[];
}

/** One operator update: its route, its form, and who may send it. */
interface UpdateForm {
  path: string;
  title: string;
  submit: string;
  fields: FieldSpec[];
  /** What the key's role needs (default steer), given the incident. */
  permission?: (incident: ConsoleIncident) => Permission;
  what: string;
  danger?: boolean;
  /** Shown only when this holds (default: while the incident is open). */
  when?: (incident: ConsoleIncident) => boolean;
}

const isOpen = (i: ConsoleIncident) => i.status === 'active' || i.status === 'resolved';

export const UPDATE_FORMS: UpdateForm[] = [
  {
    path: 'acknowledge',
    title: 'Acknowledge',
    submit: 'Acknowledge',
    what: 'acknowledge incidents',
    fields: [{ name: 'note', label: 'Note' }],
  },
  {
    path: 'set-severity',
    title: 'Severity',
    submit: 'Set severity',
    what: 'change severity',
    fields: [
      { name: 'severity', label: 'Severity', kind: 'select', options: ['P0', 'P1', 'P2', 'P3'], required: true },
      { name: 'reason', label: 'Reason' },
    ],
  },
  {
    path: 'record-root-cause',
    title: 'Root cause',
    submit: 'Record root cause',
    what: 'record the root cause',
    fields: [{ name: 'summary', label: 'Root cause', kind: 'textarea', required: true }],
  },
  {
    path: 'update-impact',
    title: 'Impact',
    submit: 'Update impact',
    what: 'update the impact',
    fields: [
      { name: 'affectedSystems', label: 'Affected systems', kind: 'list' },
      { name: 'dataBreachConfirmed', label: 'Data breach confirmed', kind: 'checkbox' },
    ],
  },
  {
    path: 'assign-owner',
    title: 'Owner',
    submit: 'Assign owner',
    what: 'assign the owner',
    fields: [{ name: 'owner', label: 'Owner', required: true }],
  },
  {
    path: 'escalate',
    title: 'Escalate',
    submit: 'Escalate',
    what: 'escalate',
    fields: [
      { name: 'reason', label: 'Reason', required: true },
      { name: 'level', label: 'To level', kind: 'select', options: ['1', '2', '3'] },
    ],
  },
  {
    path: 'advance-phase',
    title: 'Advance phase',
    submit: 'Advance',
    what: 'advance the phase',
    fields: [{ name: 'note', label: 'Note' }],
  },
  {
    path: 'add-note',
    title: 'Note',
    submit: 'Add note',
    what: 'add notes',
    fields: [
      { name: 'text', label: 'Note', kind: 'textarea', required: true },
      { name: 'finding', label: 'This is a finding', kind: 'checkbox' },
    ],
  },
  {
    path: 'add-follow-up',
    title: 'Follow-up',
    submit: 'Add follow-up',
    what: 'add follow-ups',
    fields: [
      { name: 'title', label: 'Action', required: true },
      { name: 'owner', label: 'Owner', required: true },
      { name: 'due', label: 'Due', required: true, placeholder: 'YYYY-MM-DD' },
    ],
  },
  {
    path: 'resolve',
    title: 'Resolve',
    submit: 'Resolve',
    what: 'resolve this incident',
    permission: (i) => (i.severity === 'P0' ? 'command' : 'steer'),
    fields: [{ name: 'summary', label: 'Summary', kind: 'textarea' }],
    when: (i) => i.status === 'active',
  },
  {
    path: 'declare-false-positive',
    title: 'False positive',
    submit: 'Declare false positive',
    what: 'declare a false positive',
    danger: true,
    fields: [{ name: 'reason', label: 'Reason', required: true }],
    when: (i) => i.status === 'active',
  },
];

/** Numbers in a form body that the API takes as numbers. */
function typed(body: Record<string, unknown>): Record<string, unknown> {
  return typeof body.level === 'string' ? { ...body, level: Number(body.level) } : body;
}

function PhaseProgress({ incident, now }: { incident: ConsoleIncident; now: number }) {
  const windows = incident.policy.phaseWindows;
  const closed = !isOpen(incident);
  return (
    <Section title="Phases" id="phases">
      {incident.policy.pinned ? null : (
        <p class="hint">The runbook changed since this incident opened; the windows shown are the current runbook's.</p>
      )}
      <p class="hint">
        Each bar runs from the opening to a little past the phase's deadline: shaded, its window; solid, when it ran.
      </p>
      <ol class="phases">
        {PHASES.map((phase) => {
          const times = incident.phases[phase] ?? {};
          const window = windows[phase];
          const dueAt = incident.openedAt + window.toMs;
          const running = times.startedAt !== undefined && times.endedAt === undefined && !closed;
          const overdue = (times.endedAt ?? (running ? now : undefined) ?? 0) > dueAt;
          const state =
            times.endedAt !== undefined
              ? 'done'
              : running
                ? incident.awaitingAdvance && incident.phase === phase
                  ? 'waiting for advance'
                  : 'running'
                : closed && times.startedAt !== undefined
                  ? 'stopped'
                  : 'not started';
          // One scale per phase, so a 15-minute window reads as well as a 7-day one.
          const span = Math.max(window.toMs * 1.15, 1);
          const pos = (ms: number) => `${(Math.min(Math.max(ms, 0), span) / span) * 100}%`;
          const start = times.startedAt !== undefined ? times.startedAt - incident.openedAt : undefined;
          const end = (times.endedAt ?? now) - incident.openedAt;
          return (
            <li class={`phase phase-${state.replace(/ /g, '-')}${overdue ? ' overdue' : ''}`}>
              <div class="phase-head">
                <strong>{phase}</strong>
                <span class="phase-state">{state}</span>
                {overdue ? <span class="badge overdue-badge">overdue</span> : null}
              </div>
              <div
                class="bar"
                role="img"
                aria-label={`${phase}: window ${duration(window.fromMs)} to ${duration(window.toMs)} after opening${overdue ? ', overdue' : ''}`}
              >
                <span
                  class="window"
                  style={{ left: pos(window.fromMs), width: `calc(${pos(window.toMs)} - ${pos(window.fromMs)})` }}
                />
                {start !== undefined ? (
                  <span
                    class="actual"
                    style={{ left: pos(start), width: `max(4px, calc(${pos(end)} - ${pos(start)}))` }}
                  />
                ) : null}
                <span class="due" style={{ left: pos(window.toMs) }} />
                {!closed ? <span class="now" style={{ left: pos(now - incident.openedAt) }} /> : null}
              </div>
              <div class="phase-times">
                window {duration(window.fromMs)} - {duration(window.toMs)} after opening
                {times.startedAt !== undefined ? `; started ${ago(times.startedAt, now)}` : ''}
                {times.endedAt !== undefined
                  ? `; took ${duration(times.endedAt - times.startedAt!)}`
                  : running
                    ? `; due ${ago(dueAt, now)}`
                    : ''}
              </div>
            </li>
          );
        })}
      </ol>
    </Section>
  );
}

function Escalation({ incident, now }: { incident: ConsoleIncident; now: number }) {
  const { escalation, nextEscalation, policy } = incident;
  const levelName = escalation.level === 0 ? 'first responders' : (policy.levels[String(escalation.level)]?.name ?? '');
  return (
    <Section title="Escalation" id="escalation">
      <p class="level">
        <span class={`level-badge level-${escalation.level}`} data-testid="escalation-level">
          L{escalation.level}
        </span>{' '}
        {levelName}, since <Time at={escalation.levelSince} now={now} />
        {escalation.levelAcknowledged ? ', acknowledged' : ', not acknowledged at this level'}
      </p>
      {nextEscalation && isOpen(incident) ? (
        <p class="next" data-testid="next-escalation">
          Next: <strong>L{nextEscalation.toLevel}</strong>{' '}
          <span class="countdown" role="timer">
            {nextEscalation.at > now ? `in ${duration(nextEscalation.at - now)}` : 'due now'}
          </span>{' '}
          ({clock(nextEscalation.at)}), trigger <code>{nextEscalation.trigger}</code>: {nextEscalation.reason}
        </p>
      ) : (
        <p class="next">No timed escalation pending.</p>
      )}
      {escalation.fired.length ? <p class="hint">Fired: {escalation.fired.join(', ')}</p> : null}
    </Section>
  );
}

function Waiting({
  incident,
  session,
  now,
  onDone,
}: {
  incident: ConsoleIncident;
  session: Session;
  now: number;
  onDone: () => void;
}) {
  const id = encodeURIComponent(incident.incidentId);
  return (
    <Section title={`Waiting for people (${incident.waitingSteps.length})`} id="waiting">
      {incident.waitingSteps.length === 0 ? <p class="empty">Nothing waits for a person.</p> : null}
      {incident.waitingSteps.map((w) => {
        const destructive = incident.destructiveSteps.includes(w.stepId);
        const header = (
          <div class="waiting-head">
            <p>
              <strong>{w.kind === 'approval' ? 'Approval' : 'Task'}</strong> <code>{w.stepId}</code> ({w.action}) in{' '}
              {w.phase}
              {destructive ? <span class="badge danger-badge">destructive</span> : null}
            </p>
            {w.instructions ? <p class="instructions">{w.instructions}</p> : null}
            <p class="hint">
              {w.roles?.length ? `runbook roles: ${w.roles.join(', ')}; ` : ''}waiting{' '}
              {ago(w.since, now).replace(' ago', '')}
              {w.timeoutAt ? `; times out ${ago(w.timeoutAt, now)} (then ${w.onTimeout ?? 'proceed'})` : ''}
            </p>
          </div>
        );
        if (w.kind === 'task') {
          return (
            <div class="waiting" key={w.stepId}>
              {header}
              <ActionForm
                title={`Complete ${w.stepId}`}
                submit="Mark done"
                fields={[{ name: 'note', label: 'Note' }]}
                refused={refusal(session, 'steer', 'complete tasks')}
                onSubmit={(body) => api(`/incidents/${id}/complete-task`, { body: { ...body, stepId: w.stepId } })}
                onDone={onDone}
              />
            </div>
          );
        }
        return (
          <div class="waiting" key={w.stepId}>
            {header}
            <div class="pair">
              <ActionForm
                title={`Approve ${w.stepId}`}
                submit="Approve"
                fields={[{ name: 'note', label: 'Note' }]}
                refused={
                  destructive
                    ? refusal(session, 'command', `approve ${w.stepId}, whose action ${w.action} is destructive,`)
                    : refusal(session, 'steer', 'approve steps')
                }
                onSubmit={(body) => api(`/incidents/${id}/approve-step`, { body: { ...body, stepId: w.stepId } })}
                onDone={onDone}
              />
              <ActionForm
                title={`Reject ${w.stepId}`}
                submit="Reject"
                danger
                fields={[{ name: 'reason', label: 'Reason', required: true }]}
                refused={refusal(session, 'steer', 'reject steps')}
                onSubmit={(body) => api(`/incidents/${id}/reject-step`, { body: { ...body, stepId: w.stepId } })}
                onDone={onDone}
              />
            </div>
          </div>
        );
      })}
    </Section>
  );
}

function Actions({ incident }: { incident: ConsoleIncident }) {
  const undone = new Map<string, string>();
  for (const e of incident.timeline) {
    const ev = e as TimelineEvent & { stepId?: string; phase?: string };
    if (ev.type === 'step_compensated') undone.set(`${ev.phase}/${ev.stepId}`, 'undone');
    if (ev.type === 'compensation_failed') undone.set(`${ev.phase}/${ev.stepId}`, 'undo failed');
  }
  return (
    <Section title={`Actions taken (${incident.steps.length})`} id="actions">
      {incident.steps.length === 0 ? (
        <p class="empty">No step has run yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Step</th>
              <th scope="col">Action</th>
              <th scope="col">Result</th>
              <th scope="col">Undo</th>
            </tr>
          </thead>
          <tbody>
            {incident.steps.map((s) => {
              const state = undone.get(`${s.phase}/${s.stepId}`);
              return (
                <tr>
                  <td>{s.phase}</td>
                  <td>
                    <code>{s.stepId}</code>
                  </td>
                  <td>{s.action}</td>
                  <td class={`result-${s.status}`}>
                    {s.status}
                    {s.reason ? `: ${s.reason}` : ''}
                    {s.error ? `: ${s.error}` : ''}
                  </td>
                  <td>
                    {state
                      ? `${state} (${s.undo?.action ?? 'undo'})`
                      : s.undo
                        ? `can be undone by ${s.undo.action}`
                        : 'no undo'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Evidence({ incident }: { incident: ConsoleIncident }) {
  return (
    <Section title={`Evidence (${incident.evidence.length})`} id="evidence">
      {incident.evidence.length === 0 ? (
        <p class="empty">No evidence collected yet.</p>
      ) : (
        <ul class="evidence">
          {incident.evidence.map((e) => (
            <li>
              <code>{e.stepId}</code> {e.archive}
              <br />
              <span class="hash">sha256 {e.sha256}</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Timeline({ incident, now }: { incident: ConsoleIncident; now: number }) {
  const events = [...incident.timeline].reverse();
  return (
    <Section title={`Timeline (${incident.timeline.length})`} id="timeline">
      <ol class="timeline" aria-live="polite">
        {events.map((e) => (
          <li class={`ev ev-${e.type}`}>
            <span class="ev-time">
              <Time at={e.at} now={now} />
            </span>
            <span class="ev-type">{e.type.replace(/_/g, ' ')}</span>
            <span class="ev-text">{e.text}</span>
            {e.by ? <span class="ev-by">{e.by}</span> : null}
          </li>
        ))}
      </ol>
    </Section>
  );
}

export function IncidentPage({ id, session }: { id: string; session: Session }) {
  const now = useNow();
  const loaded = usePoll(() => api<ConsoleIncident>(`/console/incidents/${encodeURIComponent(id)}`), 2_000, [id]);
  const incident = loaded.data;
  if (!incident || incident.incidentId !== id) {
    return (
      <div class="page">
        <h1 tabIndex={-1}>{id}</h1>
        {loaded.error ? <Failure error={loaded.error} /> : <p class="loading">Loading...</p>}
      </div>
    );
  }
  const path = encodeURIComponent(incident.incidentId);
  const forms = UPDATE_FORMS.filter((f) => (f.when ?? isOpen)(incident));
  return (
    <div class="page incident">
      <p class="crumbs">
        <a href="#/incidents">Incidents</a> / {incident.incidentId}
      </p>
      <h1 tabIndex={-1} class="incident-title">
        <Severity value={incident.severity} /> <span class="title-text">{incident.title}</span>
      </h1>
      <p class="facts">
        <span>{incident.incidentId}</span>
        <Status value={incident.status} />
        <span>phase {incident.phase}</span>
        <span>
          {incident.category} / {incident.eventType}
        </span>
        <span>runbook {incident.runbookId}</span>
        {incident.drill ? <span class="tag">drill</span> : null}
        <span>
          opened <Time at={incident.openedAt} now={now} />
        </span>
        <span>{incident.acknowledgedBy ? `acknowledged by ${incident.acknowledgedBy}` : 'not acknowledged'}</span>
        {incident.owner ? <span>owner {incident.owner}</span> : null}
        {incident.recurrenceOf ? (
          <span>
            recurrence of{' '}
            <a href={`#/incidents/${encodeURIComponent(incident.recurrenceOf.incidentId)}`}>
              {incident.recurrenceOf.incidentId}
            </a>{' '}
            (resolved <Time at={incident.recurrenceOf.resolvedAt} now={now} />)
          </span>
        ) : null}
      </p>
      {incident.rootCause ? (
        <p class="facts">
          Root cause: {incident.rootCause.summary} ({incident.rootCause.by})
        </p>
      ) : null}
      <p class="facts">
        Affected systems: {incident.affectedSystems.length ? incident.affectedSystems.join(', ') : 'none named'}
        {incident.dataBreachConfirmed ? '; data breach confirmed' : ''}
        {incident.alertSource ? `; detected by ${incident.alertSource}` : ''}
        {' · '}
        <a href={`#/reports/review/${path}`}>Post-incident review</a>
      </p>
      <Failure error={loaded.error} />
      <div class="grid-2">
        <div class="col">
          <PhaseProgress incident={incident} now={now} />
          <Escalation incident={incident} now={now} />
          <Waiting incident={incident} session={session} now={now} onDone={loaded.reload} />
          <Section title="Act" id="act">
            {forms.length === 0 ? <p class="empty">This incident is {incident.status}; nothing more to do.</p> : null}
            <div class="forms">
              {forms.map((f) => (
                <ActionForm
                  key={f.path}
                  title={f.title}
                  submit={f.submit}
                  fields={f.fields}
                  danger={f.danger}
                  refused={refusal(session, f.permission?.(incident) ?? 'steer', f.what)}
                  onSubmit={(body) => api(`/incidents/${path}/${f.path}`, { body: typed(body) })}
                  onDone={loaded.reload}
                />
              ))}
            </div>
          </Section>
          <Actions incident={incident} />
          <Evidence incident={incident} />
        </div>
        <div class="col">
          <Timeline incident={incident} now={now} />
          {incident.alertLabels && Object.keys(incident.alertLabels).length ? (
            <Section title="Alert labels" id="labels">
              <dl class="labels">
                {Object.entries(incident.alertLabels).map(([k, v]) => (
                  <>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </>
                ))}
              </dl>
            </Section>
          ) : null}
        </div>
      </div>
    </div>
  );
}
