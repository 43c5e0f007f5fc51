// Incident metrics for Prometheus and Grafana, served on the API's /metrics: open incidents by severity, status and
// phase (from Temporal visibility), and from the closed-incident summary store escalations by trigger and the time to
// acknowledge and to resolve as histograms. Drills are counted apart, under their own names. Read on scrape, at most
// every 15 s, so a busy scraper never loads Temporal or the disk.
import { stat } from 'node:fs/promises';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { IncidentClient } from '../client';
import type { IncidentSummaryRecord } from '../../domain/report';
import { readSummaries, summaryFile } from './store';

const REFRESH_MS = 15_000;
const OPEN_QUERY = `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`;
/** Seconds: 1m to 7d. */
const BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200, 604_800];

export interface IncidentMetricsSource {
  incidents: IncidentClient;
  dataDir?: string;
  now?: () => number;
}

export function registerIncidentMetrics(registry: Registry, source: IncidentMetricsSource): void {
  const now = source.now ?? Date.now;
  let openAt = 0;
  let open: { severity: string; status: string; phase: string; drill: boolean }[] = [];
  let storeSize = -1;
  let closed: IncidentSummaryRecord[] = [];

  const refreshOpen = async () => {
    if (now() - openAt < REFRESH_MS) return;
    openAt = now();
    const rows: typeof open = [];
    for await (const wf of source.incidents.client.workflow.list({ query: OPEN_QUERY })) {
      const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
      rows.push({
        severity: String(sa.IncidentSeverity?.[0] ?? 'unknown'),
        status: String(sa.IncidentStatus?.[0] ?? 'active'),
        phase: String(sa.IncidentPhase?.[0] ?? 'unknown'),
        drill: sa.IsDrill?.[0] === true,
      });
      if (rows.length >= 100_000) break;
    }
    open = rows;
  };
  const refreshClosed = async () => {
    if (!source.dataDir) return;
    const size = await stat(summaryFile(source.dataDir)).then(
      (s) => s.size,
      () => 0,
    );
    if (size === storeSize) return;
    storeSize = size;
    closed = await readSummaries(source.dataDir);
  };

  /**
   * A gauge or counter counted afresh on every scrape: reset, reload what it counts (a failed reload keeps the last
   * rows), and `count` adds one for each row.
   */
  const countOnScrape = <L extends string>(
    Metric: typeof Gauge<L> | typeof Counter<L>,
    config: { name: string; help: string; labelNames: readonly L[] },
    reload: () => Promise<void>,
    count: (add: (labels: Partial<Record<L, string>>) => void) => void,
  ) =>
    new Metric({
      ...config,
      registers: [registry],
      async collect() {
        this.reset();
        await reload().catch(() => undefined);
        count((labels) => this.inc(labels));
      },
    });

  countOnScrape(
    Gauge,
    {
      name: 'incident_open',
      help: 'Open incidents (drills left out) by severity, status and phase.',
      labelNames: ['severity', 'status', 'phase'],
    },
    refreshOpen,
    (add) => {
      for (const r of open.filter((x) => !x.drill)) add({ severity: r.severity, status: r.status, phase: r.phase });
    },
  );
  countOnScrape(
    Gauge,
    {
      name: 'incident_drills_open',
      help: 'Drills running on this engine, by phase (apart from incident_open).',
      labelNames: ['phase'],
    },
    refreshOpen,
    (add) => {
      for (const r of open.filter((x) => x.drill)) add({ phase: r.phase });
    },
  );
  countOnScrape(
    Counter,
    {
      name: 'incident_escalations_total',
      help: 'Escalations of closed incidents (drills left out), by trigger.',
      labelNames: ['trigger'],
    },
    refreshClosed,
    (add) => {
      for (const r of closed) if (!r.drill) for (const e of r.escalations) add({ trigger: e.trigger });
    },
  );
  countOnScrape(
    Counter,
    {
      name: 'incident_drills_closed_total',
      help: 'Drills closed, by runbook (apart from every other incident metric).',
      labelNames: ['runbook'],
    },
    refreshClosed,
    (add) => {
      for (const r of closed) if (r.drill) add({ runbook: r.runbookId });
    },
  );
  for (const [name, key, help] of [
    [
      'incident_time_to_acknowledge_seconds',
      'tta',
      'Time from opening to the first acknowledgement of closed incidents, by severity.',
    ],
    [
      'incident_time_to_resolve_seconds',
      'ttr',
      'Time from the incident beginning to its resolution, of closed incidents, by severity.',
    ],
  ] as const) {
    new Histogram({
      name,
      help,
      labelNames: ['severity'] as const,
      buckets: BUCKETS,
      registers: [registry],
      async collect() {
        this.reset();
        await refreshClosed().catch(() => undefined);
        for (const r of closed) {
          const value = r[key];
          if (!r.drill && value !== undefined) this.observe({ severity: r.severity }, value / 1000);
        }
      },
    });
  }
}
