// The weekly, monthly and quarterly reports as Markdown, JSON and a printable HTML page with inline SVG charts (MTTR
// trend, counts by severity and by category). The sections follow the FailSafe-Qore procedures' "Reporting" list.
import type { MetricsBlock, PeriodicReport } from '../../domain/report';
import { barChart, lineChart } from './charts';
import { day, dur, html, htmlPage, htmlTable, iso, md, mdTable, pct } from './text';

export const REPORT_FORMATS = ['md', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const TITLES = {
  weekly: 'Weekly incident report',
  monthly: 'Monthly incident report',
  quarterly: 'Quarterly incident review',
};

/** A part of a report: a table, a list, an SVG chart (our own markup, its text escaped); the console draws them too. */
export interface ReportSection {
  title: string;
  table?: { head: string[]; rows: unknown[][] };
  list?: string[];
  chart?: string;
}

const METRIC_HEAD = [
  '',
  'Incidents',
  'MTTA',
  'MTTD',
  'MTTC',
  'MTTE',
  'MTTR (mean / p50 / p90)',
  'Ack in time',
  'Resolved in SLA',
];

function metricRow(name: string, b: MetricsBlock): unknown[] {
  const m = (s: MetricsBlock['mtta']) => (s ? dur(s.meanMs) : '-');
  return [
    name,
    b.count,
    m(b.mtta),
    m(b.mttd),
    m(b.mttc),
    m(b.mtte),
    b.mttr ? `${dur(b.mttr.meanMs)} / ${dur(b.mttr.p50Ms)} / ${dur(b.mttr.p90Ms)}` : '-',
    `${b.acknowledgedInTime.met}/${b.acknowledgedInTime.total} (${pct(b.acknowledgedInTime.rate)})`,
    `${b.resolvedInTime.met}/${b.resolvedInTime.total} (${pct(b.resolvedInTime.rate)})`,
  ];
}

/** Counts by key as `key: n, ...`; `-` when there are none. */
function countsText(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || '-'
  );
}

export function reportSections(r: PeriodicReport): ReportSection[] {
  const m = r.metrics;
  const out: ReportSection[] = [
    {
      title: 'Incident summary',
      table: {
        head: [
          'Incident',
          'Title',
          'Severity',
          'Category',
          'Runbook',
          'Status',
          'TTR',
          'Ack in time',
          'Resolved in SLA',
        ],
        rows: r.incidents.map((i) => [
          i.incidentId,
          i.title,
          i.severity,
          i.category,
          i.runbookId,
          i.status,
          dur(i.ttr),
          i.ackMet ? 'yes' : 'MISSED',
          i.resolveMet === undefined ? '-' : i.resolveMet ? 'yes' : 'MISSED',
        ]),
      },
    },
    {
      title: 'Metrics dashboard',
      table: {
        head: METRIC_HEAD,
        rows: [
          metricRow('all', m.overall),
          ...Object.entries(m.bySeverity).map(([k, b]) => metricRow(`severity ${k}`, b)),
          ...Object.entries(m.byCategory).map(([k, b]) => metricRow(`category ${k}`, b)),
          ...Object.entries(m.byRunbook).map(([k, b]) => metricRow(`runbook ${k}`, b)),
        ],
      },
      chart: [
        barChart('Incidents by severity', m.counts.bySeverity),
        barChart('Incidents by category', m.counts.byCategory),
      ].join('\n'),
    },
    {
      title: 'Counts',
      table: {
        head: ['By', 'Counts'],
        rows: [
          ['severity', countsText(m.counts.bySeverity)],
          ['category', countsText(m.counts.byCategory)],
          ['status', countsText(m.counts.byStatus)],
          ['escalation trigger', countsText(m.escalationsByTrigger)],
        ],
      },
    },
    {
      title: 'Recurring issues',
      table: {
        head: ['Runbook', 'Target', 'Times', 'Incidents'],
        rows: m.recurring.map((x) => [x.runbookId, x.target || '-', x.count, x.incidents.join(', ')]),
      },
    },
    {
      title: 'Trends',
      table: {
        head: ['Period', 'Incidents', 'MTTR (mean)', 'Resolved in SLA'],
        rows: r.trend.map((t) => [
          `${day(t.from)} - ${day(t.to)}`,
          t.count,
          dur(t.mttrMeanMs),
          pct(t.resolvedInTimeRate),
        ]),
      },
      chart: lineChart(
        'Mean time to resolve by period',
        r.trend.map((t) => ({ label: day(t.from).slice(5), value: t.mttrMeanMs })),
        (v) => dur(v),
      ),
    },
    {
      title: 'Open follow-up actions',
      table: {
        head: ['Incident', 'Follow-up', 'Owner', 'Due', 'Overdue'],
        rows: r.followUpsOpen.map((f) => [f.incidentId, f.title, f.owner, iso(f.dueAt), f.overdue ? 'OVERDUE' : 'no']),
      },
    },
    { title: 'Recommendations', list: r.recommendations },
    {
      title: 'Drills (apart from the figures above)',
      table: {
        head: ['Drills closed', 'By runbook', 'Incidents'],
        rows: [[m.drills.count, countsText(m.drills.byRunbook), m.drills.incidents.join(', ') || '-']],
      },
    },
  ];
  if (r.rootCauses) {
    out.push({
      title: 'Detailed incident review',
      table: {
        head: ['Incident', 'Severity', 'Escalations', 'Late phases', 'Root cause', 'Lessons'],
        rows: r.incidents.map((i) => [
          i.incidentId,
          i.severity,
          i.escalations.join(', ') || '-',
          i.phasesLate.join(', ') || '-',
          i.rootCause ?? 'not recorded',
          i.lessons.join('; ') || '-',
        ]),
      },
    });
    out.push({
      title: 'Root cause analysis',
      table: {
        head: ['Runbook', 'Incident', 'Root cause'],
        rows: r.rootCauses.map((c) => [c.runbookId, c.incidentId, c.rootCause]),
      },
      list: r.missingRootCause?.length ? [`No root cause recorded: ${r.missingRootCause.join(', ')}`] : [],
    });
    out.push({
      title: 'Process improvements',
      list: r.processImprovements?.length ? r.processImprovements : ['none identified'],
    });
  }
  if (r.securityPosture) {
    const p = r.securityPosture;
    out.push({
      title: 'Security posture assessment',
      table: {
        head: ['Measure', 'Value'],
        rows: [
          ['Security incidents', p.securityIncidents],
          ['Privacy incidents', p.privacyIncidents],
          ['Critical (P0) incidents', p.critical],
          ['Confirmed data breaches', p.dataBreaches],
          ['Evidence items preserved', p.evidenceItems],
          ['By event type', countsText(p.byEventType)],
        ],
      },
    });
  }
  if (r.procedureReview) {
    out.push({
      title: 'Response procedure review',
      table: {
        head: ['Runbook', 'Incidents', 'Ack in time', 'Resolved in SLA', 'Late phases', 'Drills'],
        rows: r.procedureReview.map((p) => [
          p.runbookId,
          p.incidents,
          `${p.acknowledgedInTime.met}/${p.acknowledgedInTime.total}`,
          `${p.resolvedInTime.met}/${p.resolvedInTime.total}`,
          countsText(p.phasesLate),
          p.drills,
        ]),
      },
    });
    out.push({
      title: 'Threat model update',
      table: {
        head: ['Event type', 'Incidents', 'Worst severity', 'Raised after opening', 'Targets', 'Root causes'],
        rows: (r.threatModel ?? []).map((t) => [
          t.eventType,
          t.incidents,
          t.worstSeverity,
          t.raisedAfterOpening,
          t.targets.join('; ') || '-',
          t.rootCauses.join('; ') || 'none recorded',
        ]),
      },
    });
    out.push({
      title: 'Security audit',
      table: {
        head: ['Check', 'Incidents found'],
        rows: (r.securityAudit ?? []).map((c) => [c.check, c.incidents.join(', ') || 'none']),
      },
    });
    out.push({
      title: 'Training requirements',
      table: {
        head: ['Audience', 'Requirement', 'Document', 'This quarter'],
        rows: (r.training ?? []).map((t) => [
          t.audience,
          t.requirement,
          t.source === 'fiovana' ? 'the Fiovana procedures' : 'the FailSafe-Qore procedures',
          t.drills
            ? `${t.drills.held} ${t.drillMode} drill(s)` +
              (t.drills.scenarios.length ? `: ${t.drills.scenarios.join(', ')}` : '')
            : 'not recorded by the engine: confirm from the training records',
        ]),
      },
    });
    out.push({
      title: 'Training and simulation',
      table: {
        head: ['Held', 'Scenario', 'Runbook', 'Mode', 'Participants', 'Result', 'Expectations missed'],
        rows: (r.drillsHeld ?? []).map((d) => [
          iso(d.at),
          d.scenario,
          d.runbook,
          d.mode,
          d.participants.join(', '),
          `${d.passed ? 'passed' : 'FAILED'} (${d.expectationsMet.length}/${d.expectationsMet.length + d.expectationsMissed.length} met)`,
          d.expectationsMissed.join('; ') || '-',
        ]),
      },
    });
  }
  return out;
}

function heading(r: PeriodicReport): string {
  return `${TITLES[r.kind]}: ${day(r.window.from)} to ${day(r.window.to)}`;
}

export function reportMarkdown(r: PeriodicReport): string {
  const out = [
    `# ${heading(r)}`,
    '',
    `Incidents closed from ${iso(r.window.from)} to ${iso(r.window.to)}; generated ${iso(r.generatedAt)}.`,
    '',
  ];
  for (const s of reportSections(r)) {
    out.push(`## ${s.title}`, '');
    if (s.table) out.push(mdTable(s.table.head, s.table.rows), '');
    if (s.list?.length) out.push(...s.list.map((l) => `- ${md(l)}`), '');
  }
  return out.join('\n');
}

export function reportHtml(r: PeriodicReport): string {
  const body = [
    `<h1>${html(heading(r))}</h1><p class="meta">Incidents closed from ${html(iso(r.window.from))} to ${html(iso(r.window.to))}; generated ${html(iso(r.generatedAt))}.</p>`,
  ];
  for (const s of reportSections(r)) {
    body.push(`<h2>${html(s.title)}</h2>`);
    if (s.chart) body.push(s.chart);
    if (s.table) body.push(htmlTable(s.table.head, s.table.rows));
    if (s.list?.length) body.push(`<ul>${s.list.map((l) => `<li>${html(l)}</li>`).join('')}</ul>`);
  }
  return htmlPage(heading(r), body.join('\n'));
}

export function renderReport(r: PeriodicReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  return format === 'md' ? reportMarkdown(r) : reportHtml(r);
}
