// Reports: the weekly, monthly and quarterly reports and each incident's post-incident review, read from the API when
// it serves them (GET /reports/{period}, GET /incidents/{id}/review) and shown as text, tables and bar charts; a clear
// "not available" with the API's words otherwise.
import type { ComponentChildren } from 'preact';
import { api, type Session } from './api';
import type { IncidentSummary } from './incidents';
import { Failure, Section, Status, usePoll } from './ui';

const PERIODS = ['weekly', 'monthly', 'quarterly'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isRecord(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An array of records with a text label and a number: drawn as bars. */
function chartable(rows: Json[]): { label: string; value: string } | undefined {
  const first = rows[0];
  if (!first || !isRecord(first)) return undefined;
  const label = Object.keys(first).find((k) => typeof first[k] === 'string');
  const value = Object.keys(first).find((k) => typeof first[k] === 'number');
  return label && value && rows.every(isRecord) ? { label, value } : undefined;
}

function Bars({ rows, label, value }: { rows: { [key: string]: Json }[]; label: string; value: string }) {
  const max = Math.max(1, ...rows.map((r) => Number(r[value]) || 0));
  return (
    <ul class="bars" aria-label={`${value} by ${label}`}>
      {rows.map((r) => (
        <li>
          <span class="bar-label">{String(r[label])}</span>
          <span class="bar-track">
            <span class="bar-fill" style={{ width: `${((Number(r[value]) || 0) / max) * 100}%` }} />
          </span>
          <span class="bar-value">{String(r[value])}</span>
        </li>
      ))}
    </ul>
  );
}

function Value({ value, depth = 0 }: { value: Json; depth?: number }): ComponentChildren {
  if (value === null || typeof value !== 'object') return <span>{String(value)}</span>;
  if (Array.isArray(value)) {
    const chart = chartable(value);
    if (chart) return <Bars rows={value as { [key: string]: Json }[]} {...chart} />;
    return (
      <ul>
        {value.map((v) => (
          <li>
            <Value value={v} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  return (
    <dl class={depth === 0 ? 'report' : 'nested'}>
      {Object.entries(value).map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>
            <Value value={v} depth={depth + 1} />
          </dd>
        </>
      ))}
    </dl>
  );
}

function Document({ path, what }: { path: string; what: string }) {
  const loaded = usePoll(() => api<Json>(path), 60_000, [path]);
  if (loaded.error) {
    return (
      <div class="unavailable" data-testid="not-available">
        <p>
          <strong>Not available:</strong> the API does not serve {what} ({path}).
        </p>
        <Failure error={loaded.error} />
      </div>
    );
  }
  if (loaded.data === undefined) return <p class="loading">Loading...</p>;
  return (
    <div class="document">
      <p class="hint">
        From <code>{path}</code>
      </p>
      {typeof loaded.data === 'string' ? <pre>{loaded.data}</pre> : <Value value={loaded.data} />}
    </div>
  );
}

export function ReportsPage({ what, id }: { session: Session; what?: string; id?: string }) {
  const closed = usePoll(
    () => api<{ incidents: IncidentSummary[] }>('/console/incidents?limit=50&drill=false'),
    30_000,
    [],
  );
  const period = PERIODS.find((p) => p === what);
  const reviewed = closed.data?.incidents.filter((i) => i.status !== 'active') ?? [];
  return (
    <div class="page">
      <h1 tabIndex={-1}>Reports</h1>
      <nav class="tabs" aria-label="Reports">
        {PERIODS.map((p) => (
          <a href={`#/reports/${p}`} aria-current={period === p ? 'page' : undefined}>
            {p[0]!.toUpperCase() + p.slice(1)} report
          </a>
        ))}
      </nav>
      <div class="grid-2">
        <div class="col">
          {period ? (
            <Section title={`${period[0]!.toUpperCase()}${period.slice(1)} report`} id="period">
              <Document path={`/reports/${period}`} what={`the ${period} report`} />
            </Section>
          ) : what === 'review' && id ? (
            <Section title={`Post-incident review of ${id}`} id="review">
              <p>
                <a href={`#/incidents/${encodeURIComponent(id)}`}>Back to {id}</a>
              </p>
              <Document path={`/incidents/${encodeURIComponent(id)}/review`} what={`a review of ${id}`} />
            </Section>
          ) : (
            <Section title="Choose a report" id="choose">
              <p>Pick a period above, or an incident's post-incident review.</p>
            </Section>
          )}
        </div>
        <Section title="Post-incident reviews" id="reviews">
          <Failure error={closed.error} />
          {reviewed.length === 0 ? <p class="empty">No resolved or closed incident yet.</p> : null}
          <ul class="runs">
            {reviewed.map((i) => (
              <li>
                <a href={`#/reports/review/${encodeURIComponent(i.incidentId)}`}>{i.incidentId}</a>{' '}
                <Status value={i.status} /> <span class="title">{i.title ?? ''}</span>
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </div>
  );
}
