// Drills: the scenarios, a button to run one as a tabletop on its own test server, its progress while it runs and
// its report (expectations, scripted lines, actions that would have run, timeline) when done.
import { useState } from 'preact/hooks';
import type { DrillScenarioSummary } from '../domain/drill';
import { ApiFailure, api, refusal, type Session } from './api';
import { Failure, Section, Time, useNow, usePoll } from './ui';

interface Progress {
  at: number;
  atLabel: string;
  phase: string;
  level: number;
  kind: string;
  text: string;
}

interface DrillReport {
  passed: boolean;
  summary: string;
  scenario: { id: string; title: string; executed: string; runbook: { id: string; version: number } };
  incident: { final: Record<string, unknown>; metrics: Record<string, number | undefined> };
  clock: { endLabel: string };
  expectations: { name: string; expected: string; actual: string; passed: boolean; difference?: string }[];
  script: {
    atLabel: string;
    event: string;
    by: string;
    outcome: string;
    expected: string;
    ok: boolean;
    reason?: string;
  }[];
  timeline: { atLabel: string; type: string; text: string; by?: string }[];
  actions: { atLabel: string; activity: string; for: string; performed: boolean }[];
}

interface DrillRun {
  runId: string;
  scenario: { id: string; title: string };
  by: string;
  state: 'running' | 'passed' | 'failed' | 'error';
  startedAt: number;
  endedAt?: number;
  progress: Progress[];
  report?: DrillReport;
  error?: string;
}

function RunButton({ scenario, session }: { scenario: DrillScenarioSummary; session: Session }) {
  const [error, setError] = useState<ApiFailure>();
  const why = refusal(session, 'open', 'run drills');
  return (
    <div>
      <button
        type="button"
        disabled={why !== undefined}
        title={why}
        aria-label={`Run ${scenario.id} as a tabletop`}
        onClick={async () => {
          try {
            const run = await api<DrillRun>(`/drills/${encodeURIComponent(scenario.id)}/runs`, { body: {} });
            location.hash = `#/drills/runs/${run.runId}`;
          } catch (e) {
            setError(e as ApiFailure);
          }
        }}
      >
        Run tabletop
      </button>
      {why ? <p class="why">{why}</p> : null}
      <Failure error={error} />
    </div>
  );
}

export function DrillsPage({ session }: { session: Session }) {
  const now = useNow();
  const scenarios = usePoll(() => api<{ scenarios: DrillScenarioSummary[] }>('/drills'), 60_000, []);
  const runs = usePoll(() => api<{ runs: DrillRun[] }>('/drills/runs'), 3_000, []);
  return (
    <div class="page">
      <h1 tabIndex={-1}>Drills</h1>
      <p class="hint">
        A drill plays a scenario against its runbook on a test server of its own with a simulated clock: every action is
        recorded, nothing is touched. One runs at a time.
      </p>
      <Failure error={scenarios.error} />
      <div class="grid-2">
        <Section title="Scenarios" id="scenarios">
          <ul class="scenarios">
            {(scenarios.data?.scenarios ?? []).map((s) => (
              <li class="scenario">
                <div>
                  <strong>{s.title}</strong> <code>{s.id}</code>
                  <p class="hint">
                    runbook {s.runbook}, {s.mode}, {s.events} scripted events
                  </p>
                  {s.description ? <p class="desc">{s.description}</p> : null}
                </div>
                <RunButton scenario={s} session={session} />
              </li>
            ))}
          </ul>
        </Section>
        <Section title="Recent runs" id="runs">
          {(runs.data?.runs ?? []).length === 0 ? <p class="empty">No drill has run in this API process yet.</p> : null}
          <ul class="runs">
            {(runs.data?.runs ?? []).map((r) => (
              <li>
                <a href={`#/drills/runs/${r.runId}`}>{r.scenario.title}</a>{' '}
                <span class={`status status-${r.state}`}>{r.state}</span> by {r.by}, <Time at={r.startedAt} now={now} />
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </div>
  );
}

function Report({ report }: { report: DrillReport }) {
  return (
    <>
      <Section title="Report" id="report">
        <p class={report.passed ? 'ok' : 'failure'} data-testid="drill-verdict">
          {report.summary}
        </p>
        <p class="hint">
          {report.scenario.executed}, runbook {report.scenario.runbook.id} v{report.scenario.runbook.version}, simulated
          clock to {report.clock.endLabel}
        </p>
        <h3>Expectations</h3>
        <table>
          <thead>
            <tr>
              <th scope="col">Expectation</th>
              <th scope="col">Expected</th>
              <th scope="col">Actual</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {report.expectations.map((e) => (
              <tr class={e.passed ? 'pass' : 'fail'}>
                <td>{e.name}</td>
                <td>{e.expected}</td>
                <td>{e.actual}</td>
                <td>{e.passed ? 'ok' : `FAILED${e.difference ? ` (${e.difference})` : ''}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>Script</h3>
        <table>
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Event</th>
              <th scope="col">By</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {report.script.map((s) => (
              <tr class={s.ok ? 'pass' : 'fail'}>
                <td>{s.atLabel}</td>
                <td>{s.event}</td>
                <td>{s.by}</td>
                <td>
                  {s.outcome}
                  {s.reason ? `: ${s.reason}` : ''}
                  {s.ok ? '' : ` (expected ${s.expected})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title={`Actions that would have run (${report.actions.length})`} id="drill-actions">
        <table>
          <tbody>
            {report.actions.map((a) => (
              <tr>
                <td>{a.atLabel}</td>
                <td>{a.activity}</td>
                <td>{a.for}</td>
                <td>{a.performed ? 'performed' : 'recorded'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}

export function DrillRunPage({ runId }: { runId: string }) {
  const now = useNow();
  const loaded = usePoll(() => api<DrillRun>(`/drills/runs/${encodeURIComponent(runId)}`), 1_000, [runId]);
  const run = loaded.data;
  return (
    <div class="page">
      <p class="crumbs">
        <a href="#/drills">Drills</a> / run {runId}
      </p>
      <h1 tabIndex={-1}>{run ? run.scenario.title : `Drill run ${runId}`}</h1>
      <Failure error={loaded.error} />
      {run ? (
        <>
          <p class="facts">
            <span class={`status status-${run.state}`} data-testid="drill-state">
              {run.state}
            </span>
            <span>started by {run.by}</span>
            <span>
              <Time at={run.startedAt} now={now} />
            </span>
            {run.endedAt ? <span>took {Math.round((run.endedAt - run.startedAt) / 1000)} s</span> : null}
          </p>
          {run.error ? <p class="failure">{run.error}</p> : null}
          <div class="grid-2">
            <div class="col">{run.report ? <Report report={run.report} /> : null}</div>
            <Section title={`Progress (${run.progress.length})`} id="progress">
              <ol class="timeline" aria-live="polite">
                {run.progress.map((p) => (
                  <li class={`ev ${p.kind === 'script' ? 'ev-script' : ''}`}>
                    <span class="ev-time">{p.atLabel}</span>
                    <span class="ev-type">
                      {p.phase} L{p.level}
                    </span>
                    <span class="ev-text">{p.text}</span>
                  </li>
                ))}
              </ol>
            </Section>
          </div>
        </>
      ) : null}
    </div>
  );
}
