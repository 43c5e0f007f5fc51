// The incidents list: filters kept in the URL, counts by severity and status, severity colours, refreshed every two
// seconds without a reload, and the form to open an incident.
import type { IncidentSummary as Summary } from '../domain/incident-summary';
import { api, refusal, type Session } from './api';
import { ActionForm, Failure, SEVERITY_NAMES, Severity, Status, Time, useNow, usePoll } from './ui';

/** An incident of GET /console/incidents: times as ISO text. */
export type IncidentSummary = Summary<string>;

interface Runbook {
  id: string;
  title: string;
  category: string;
  eventTypes: string[];
}

const STATUSES = ['active', 'resolved', 'closed', 'false_positive', 'failed'];
const SEVERITIES = ['P0', 'P1', 'P2', 'P3'];
// The engine's categories (domain/incident.ts CATEGORIES), written out so the page does not bundle zod.
const CATEGORIES = ['security', 'operational', 'privacy'];

const FILTERS = ['status', 'severity', 'category', 'runbook', 'drill'] as const;

function setFilter(params: URLSearchParams, name: string, value: string): void {
  if (value) params.set(name, value);
  else params.delete(name);
  location.hash = `#/incidents${params.size ? `?${params}` : ''}`;
}

function Filters({ params, runbooks }: { params: URLSearchParams; runbooks: Runbook[] }) {
  const options: Record<(typeof FILTERS)[number], string[]> = {
    status: STATUSES,
    severity: SEVERITIES,
    category: CATEGORIES,
    runbook: runbooks.map((r) => r.id),
    drill: ['true', 'false'],
  };
  return (
    <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      {FILTERS.map((name) => (
        <div class="field">
          <label for={`filter-${name}`}>{name === 'drill' ? 'drills' : name}</label>
          <select
            id={`filter-${name}`}
            onChange={(e) => setFilter(params, name, (e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {options[name].map((o) => (
              <option value={o} selected={params.get(name) === o}>
                {name === 'drill' ? (o === 'true' ? 'drills only' : 'no drills') : o.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
      ))}
    </form>
  );
}

function Counts({ incidents }: { incidents: IncidentSummary[] }) {
  const count = (pick: (i: IncidentSummary) => boolean) => incidents.filter(pick).length;
  const open = incidents.filter((i) => i.status === 'active');
  return (
    <ul class="counts" aria-label="Counts">
      <li>
        <strong>{open.length}</strong> active
      </li>
      {SEVERITIES.map((s) => (
        <li class={`count sev-${s.toLowerCase()}`}>
          <strong>{open.filter((i) => i.severity === s).length}</strong> {s} {SEVERITY_NAMES[s]}
        </li>
      ))}
      <li>
        <strong>{count((i) => i.status === 'resolved')}</strong> resolved
      </li>
      <li>
        <strong>{count((i) => i.status === 'closed' || i.status === 'false_positive')}</strong> closed
      </li>
      <li>
        <strong>{incidents.length}</strong> listed
      </li>
    </ul>
  );
}

function OpenForm({ session, runbooks, onDone }: { session: Session; runbooks: Runbook[]; onDone: () => void }) {
  return (
    <ActionForm
      title="Open an incident"
      submit="Open incident"
      refused={refusal(session, 'open', 'open incidents')}
      fields={[
        { name: 'title', label: 'Title', required: true },
        {
          name: 'runbook',
          label: 'Runbook',
          kind: 'select',
          required: true,
          options: runbooks.map((r) => r.id),
          value: runbooks.some((r) => r.id === 'security-incident') ? 'security-incident' : undefined,
        },
        { name: 'severity', label: 'Severity', kind: 'select', options: SEVERITIES },
        {
          name: 'eventType',
          label: 'Event type',
          kind: 'select',
          options: [...new Set(runbooks.flatMap((r) => r.eventTypes))].sort(),
        },
        { name: 'affectedSystems', label: 'Affected systems', kind: 'list' },
        { name: 'drill', label: 'This is a drill', kind: 'checkbox' },
      ]}
      onSubmit={async (body) => {
        const opened = await api<{ incidentId: string }>('/incidents', { body });
        location.hash = `#/incidents/${encodeURIComponent(opened.incidentId)}`;
      }}
      onDone={onDone}
    />
  );
}

export function IncidentsPage({ session, query }: { session: Session; query: string }) {
  const params = new URLSearchParams(query);
  const now = useNow();
  const list = usePoll(
    () => {
      const q = new URLSearchParams();
      for (const name of FILTERS) {
        const v = params.get(name);
        if (v) q.set(name, v);
      }
      q.set('limit', '200');
      return api<{ incidents: IncidentSummary[] }>(`/console/incidents?${q}`);
    },
    2_000,
    [query],
  );
  const runbooks = usePoll(() => api<{ runbooks: Runbook[] }>('/console/runbooks'), 60_000, []);
  const incidents = list.data?.incidents ?? [];
  return (
    <div class="page">
      <h1 tabIndex={-1}>Incidents</h1>
      <Filters params={params} runbooks={runbooks.data?.runbooks ?? []} />
      <Counts incidents={incidents} />
      <Failure error={list.error} />
      <div class="grid-2">
        <section class="card wide" aria-labelledby="list-h">
          <h2 id="list-h">
            {incidents.length} incident{incidents.length === 1 ? '' : 's'}{' '}
            <span class="live" aria-hidden="true">
              live
            </span>
          </h2>
          {list.data && incidents.length === 0 ? <p class="empty">No incident matches these filters.</p> : null}
          <table class="incidents">
            <thead>
              <tr>
                <th scope="col">Incident</th>
                <th scope="col">Severity</th>
                <th scope="col">Title</th>
                <th scope="col">Phase</th>
                <th scope="col">Status</th>
                <th scope="col">Runbook</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {incidents.map((i) => (
                <tr key={i.incidentId} class={`row-${(i.severity ?? '').toLowerCase()}`}>
                  <td>
                    <a href={`#/incidents/${encodeURIComponent(i.incidentId)}`}>{i.incidentId}</a>
                    {i.drill ? <span class="tag">drill</span> : null}
                  </td>
                  <td>
                    <Severity value={i.severity} />
                  </td>
                  <td class="title">{i.title ?? ''}</td>
                  <td>{i.phase ?? '-'}</td>
                  <td>
                    <Status value={i.status} />
                  </td>
                  <td>{i.runbookId ?? '-'}</td>
                  <td>
                    <Time at={i.startTime} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <OpenForm session={session} runbooks={runbooks.data?.runbooks ?? []} onDone={list.reload} />
      </div>
    </div>
  );
}
