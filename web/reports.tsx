// Reports: the weekly, monthly and quarterly reports and each incident's post-incident review, read from the API
// (GET /reports/{period}, GET /incidents/{id}/review) and drawn as the sections of its printable renderers (the same
// tables, lists and charts, src/reports/*-render.ts), with links to the printable, Markdown and JSON forms; a clear
// "not available" with the API's words otherwise.
import type { PeriodicReport } from '../domain/report';
import type { Review } from '../domain/review';
import { type ReportSection, reportSections } from '../src/reports/report-render';
import { type ReviewSection, reviewSections } from '../src/reports/review-render';
import { api, type Session } from './api';
import type { IncidentSummary } from './incidents';
import { Failure, Section, Status, usePoll } from './ui';

const PERIODS = ['weekly', 'monthly', 'quarterly'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Part = ReportSection | ReviewSection;

/** A cell as the printable renderers show it: text, or markup our own renderer made (a chart, every text escaped). */
function Cell({ value }: { value: unknown }) {
  if (value && typeof value === 'object' && 'raw' in value)
    return <span dangerouslySetInnerHTML={{ __html: String((value as { raw: string }).raw) }} />;
  return <>{value === undefined || value === null ? '' : String(value)}</>;
}

function Table({ head, rows }: { head: string[]; rows: unknown[][] }) {
  if (rows.length === 0) return <p class="empty">none</p>;
  return (
    <table class="doc-table">
      <thead>
        <tr>
          {head.map((h) => (
            <th>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>
            {row.map((v) => (
              <td>
                <Cell value={v} />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The sections the API's Markdown and printable HTML are made of, drawn from the same JSON. */
function Sections({ parts }: { parts: Part[] }) {
  return (
    <>
      {parts.map((part) => (
        <section class="doc-section" aria-label={part.title}>
          <h3>{part.title}</h3>
          {'chart' in part && part.chart ? (
            <div class="chart" dangerouslySetInnerHTML={{ __html: part.chart }} />
          ) : null}
          {'lines' in part && part.lines ? (
            <dl>
              {part.lines.map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>
                    <Cell value={v} />
                  </dd>
                </>
              ))}
            </dl>
          ) : null}
          {part.table ? <Table {...part.table} /> : null}
          {'list' in part && part.list?.length ? (
            <ul>
              {part.list.map((line) => (
                <li>{line}</li>
              ))}
            </ul>
          ) : null}
          {'text' in part && part.text?.length ? part.text.map((t) => <p>{t}</p>) : null}
        </section>
      ))}
    </>
  );
}

function Document({ path, what, parts }: { path: string; what: string; parts: (data: Json) => Part[] }) {
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
        From <code>{path}</code>: <a href={`${path}?format=html`}>printable</a>,{' '}
        <a href={`${path}?format=md`}>Markdown</a>, <a href={path}>JSON</a>
      </p>
      <Sections parts={parts(loaded.data)} />
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
              <Document
                path={`/reports/${period}`}
                what={`the ${period} report`}
                parts={(data) => reportSections(data as unknown as PeriodicReport)}
              />
            </Section>
          ) : what === 'review' && id ? (
            <Section title={`Post-incident review of ${id}`} id="review">
              <p>
                <a href={`#/incidents/${encodeURIComponent(id)}`}>Back to {id}</a>
              </p>
              <Document
                path={`/incidents/${encodeURIComponent(id)}/review`}
                what={`a review of ${id}`}
                parts={(data) => reviewSections(data as unknown as Review)}
              />
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
