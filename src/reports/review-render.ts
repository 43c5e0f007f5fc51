// The post-incident review as Markdown, JSON and a printable HTML page. Every section is always present (an empty
// one says "none"), so a reader knows nothing was left out.
import type { Review } from '../../domain/review';
import { describeSeverity } from '../../domain/severity';
import { dur, html, htmlPage, htmlTable, iso, md, mdTable } from './text';

export const REVIEW_FORMATS = ['md', 'json', 'html'] as const;
export type ReviewFormat = (typeof REVIEW_FORMATS)[number];

/** The review's sections as heading and table (head and rows): the Markdown and HTML renderers' and the console's. */
export interface ReviewSection {
  title: string;
  lines?: [string, unknown][];
  table?: { head: string[]; rows: unknown[][] };
  text?: string[];
}

function json(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

export function reviewSections(r: Review): ReviewSection[] {
  const s = r.summary;
  return [
    {
      title: 'Summary',
      lines: [
        ['Incident', s.incidentId],
        ['Title', s.title],
        ['Status', `${s.status}${r.final ? '' : ' (draft review: the incident is not closed)'}`],
        ['Severity', describeSeverity(s.severity)],
        ['Category / event type', `${s.category} / ${s.eventType}`],
        ['Runbook', `${s.runbook.id} v${s.runbook.version} (${s.runbook.hash.slice(0, 12)})`],
        ['Drill', s.drill ? 'yes' : 'no'],
        ['Owner', s.owner ?? '-'],
        ['Detected by', s.detectedBy ?? '-'],
        [
          'Targets (alert labels)',
          Object.entries(s.alertLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || '-',
        ],
        ['Began', iso(s.startedAt)],
        ['Opened', iso(s.openedAt)],
        ['Acknowledged', s.acknowledgedAt ? `${iso(s.acknowledgedAt)} by ${s.acknowledgedBy ?? '?'}` : 'never'],
        ['Resolved', s.resolvedAt ? `${iso(s.resolvedAt)}${s.resolution ? `: ${s.resolution}` : ''}` : '-'],
        ['Closed', iso(s.closedAt)],
        ...(s.falsePositiveReason ? ([['False positive', s.falsePositiveReason]] as [string, unknown][]) : []),
      ],
    },
    {
      title: 'Times',
      lines: [
        ['Time to acknowledge', dur(r.times.acknowledgeMs)],
        ['Time to detect', dur(r.times.detectMs)],
        ['Time to contain', dur(r.times.containMs)],
        ['Time to eradicate', dur(r.times.eradicateMs)],
        ['Time to resolve', dur(r.times.resolveMs)],
      ],
    },
    {
      title: 'Severity history',
      table: {
        head: ['At', 'Severity', 'By', 'Basis'],
        rows: r.severityHistory.map((h) => [iso(h.at), h.severity, h.by ?? '-', h.basis]),
      },
    },
    {
      title: `Phases against their windows${s.defaultWindows ? ' (default windows: the runbook plan was not available)' : ''}`,
      table: {
        head: ['Phase', 'Started', 'Ended', 'Duration', 'Window', 'Due', 'Verdict'],
        rows: r.phases.map((p) => [
          p.phase,
          iso(p.startedAt),
          iso(p.endedAt),
          dur(p.durationMs),
          `${dur(p.window.fromMs)}-${dur(p.window.toMs)}`,
          iso(p.dueAt),
          p.overByMs !== undefined ? `${p.verdict} (over by ${dur(p.overByMs)})` : p.verdict,
        ]),
      },
    },
    {
      title: 'Escalations',
      table: {
        head: ['At', 'Trigger', 'From', 'To', 'Reason', 'By'],
        rows: r.escalations.map((e) => [
          iso(e.at),
          e.trigger,
          `L${e.fromLevel}`,
          `L${e.toLevel}`,
          e.reason,
          e.by ?? '-',
        ]),
      },
    },
    {
      title: 'Actions taken and undone',
      table: {
        head: ['Phase', 'Step', 'Action', 'Parameters', 'Outcome', 'Ended', 'Undone'],
        rows: r.actions.map((a) => [
          a.phase,
          a.stepId,
          a.action,
          json(a.params),
          [a.status, a.error, a.reason, a.output !== undefined ? json(a.output) : undefined].filter(Boolean).join(': '),
          iso(a.endedAt),
          a.undone
            ? `${a.undone.failed ? 'FAILED ' : ''}${a.undone.undo} at ${iso(a.undone.at)} ${json(a.undone.params)}${a.undone.failed ? `: ${a.undone.failed}` : ''}`
            : '-',
        ]),
      },
    },
    {
      title: 'Approvals, rejections and tasks',
      table: {
        head: ['At', 'Decision', 'Phase', 'Step', 'Who', 'Role', 'Why'],
        rows: r.decisions.map((d) => [iso(d.at), d.kind, d.phase, d.stepId, d.by ?? '-', d.role ?? '-', d.why ?? '-']),
      },
    },
    {
      title: 'Root cause',
      text: [
        r.rootCause
          ? `${r.rootCause.summary} (recorded by ${r.rootCause.by} at ${iso(r.rootCause.at)})`
          : 'not recorded',
      ],
    },
    {
      title: 'Impact',
      lines: [
        ['Affected systems', r.impact.affectedSystems.join(', ') || '-'],
        ['Data breach confirmed', r.impact.dataBreachConfirmed ? 'yes' : 'no'],
        ...r.impact.changes.map((c): [string, unknown] => [
          `Changed ${iso(c.at)}`,
          `${c.affectedSystems.join(', ') || '-'}${c.dataBreachConfirmed ? ', breach confirmed' : ''}${c.by ? ` (by ${c.by})` : ''}`,
        ]),
      ],
    },
    {
      title: 'Evidence',
      table: { head: ['Step', 'Archive', 'SHA-256'], rows: r.evidence.map((e) => [e.stepId, e.archive, e.sha256]) },
    },
    {
      title: 'Notes and findings',
      table: {
        head: ['At', 'By', 'Kind', 'Note'],
        rows: r.notes.map((n) => [iso(n.at), n.by, n.finding ? 'finding' : 'note', n.text]),
      },
    },
    {
      title: 'Lessons learned',
      table: {
        head: ['At', 'By', 'Kind', 'Lesson'],
        rows: r.lessons.map((l) => [iso(l.at), l.by, (l.kind ?? 'lesson_learned').replace(/_/g, ' '), l.text]),
      },
    },
    {
      title: 'Follow-up actions',
      table: {
        head: ['Id', 'Title', 'Owner', 'Due', 'Done'],
        rows: r.followUps.map((f) => [
          f.id,
          f.title,
          f.owner,
          iso(f.dueAt),
          f.doneAt ? `${iso(f.doneAt)} by ${f.doneBy ?? '?'}` : 'open',
        ]),
      },
    },
    {
      title: 'Timeline (condensed)',
      table: {
        head: ['At', '+', 'By', 'Event'],
        rows: r.timeline.map((t) => [iso(t.at), dur(t.offsetMs), t.by ?? '-', t.text]),
      },
      text: Object.keys(r.condensedAway).length
        ? [
            `Left out: ${Object.entries(r.condensedAway)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}.`,
          ]
        : [],
    },
  ];
}

export function reviewMarkdown(r: Review): string {
  const out = [`# Post-incident review: ${md(r.summary.incidentId)} ${md(r.summary.title)}`, ''];
  for (const sec of reviewSections(r)) {
    out.push(`## ${sec.title}`, '');
    if (sec.lines) out.push(...sec.lines.map(([k, v]) => `- **${md(k)}:** ${md(v)}`), '');
    if (sec.table) out.push(mdTable(sec.table.head, sec.table.rows), '');
    if (sec.text?.length) out.push(...sec.text.map(md), '');
  }
  return out.join('\n');
}

export function reviewHtml(r: Review): string {
  const body = [
    `<h1>Post-incident review: ${html(r.summary.incidentId)}</h1><p class="meta">${html(r.summary.title)}</p>`,
  ];
  for (const sec of reviewSections(r)) {
    body.push(`<h2>${html(sec.title)}</h2>`);
    if (sec.lines)
      body.push(
        htmlTable(
          ['', ''],
          sec.lines.map(([k, v]) => [k, v]),
        ).replace('<thead><tr><th></th><th></th></tr></thead>', ''),
      );
    if (sec.table) body.push(htmlTable(sec.table.head, sec.table.rows));
    if (sec.text?.length) body.push(...sec.text.map((t) => `<p>${html(t)}</p>`));
  }
  return htmlPage(`Post-incident review ${r.summary.incidentId}`, body.join('\n'));
}

export function renderReview(r: Review, format: ReviewFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  return format === 'md' ? reviewMarkdown(r) : reviewHtml(r);
}
