// Prometheus metrics of the API (prom-client): request counts and latency by route, incidents opened, alerts received,
// deduplicated (joined an open incident) and ignored (repeats, resolves with nothing open). Each server has its own
// registry, so two servers in one process never share or clash. Labels are route patterns, never raw URLs or ids.
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'incident_api_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'incident_api_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly incidentsOpened: IncidentCounters['incidentsOpened'];
  readonly alertsReceived: IncidentCounters['alertsReceived'];
  readonly alertsDeduplicated: IncidentCounters['alertsDeduplicated'];
  readonly alertsIgnored: IncidentCounters['alertsIgnored'];
  /** Drills are left out of every metric: their counters are kept apart and never served. */
  readonly drill: IncidentCounters = incidentCounters([]);

  constructor() {
    const served = incidentCounters([this.registry]);
    this.incidentsOpened = served.incidentsOpened;
    this.alertsReceived = served.alertsReceived;
    this.alertsDeduplicated = served.alertsDeduplicated;
    this.alertsIgnored = served.alertsIgnored;
    collectDefaultMetrics({ register: this.registry, prefix: 'incident_api_' });
  }

  /** Times every request; the route label is the pattern (`/incidents/:id`), `unmatched` for unknown routes. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      this.httpRequests.inc(labels);
      this.httpDuration.observe(labels, reply.elapsedTime / 1000);
    });
  }
}

/** The incident and alert counters; `registers: []` makes a set that is counted but never served. */
function incidentCounters(registers: Registry[]) {
  return {
    incidentsOpened: new Counter({
      name: 'incident_api_incidents_opened_total',
      help: 'Incidents opened through the API, by how (api, alertmanager, pagerduty, generic).',
      labelNames: ['via'] as const,
      registers,
    }),
    alertsReceived: new Counter({
      name: 'incident_api_alerts_received_total',
      help: 'Alerts received by the intake, by format.',
      labelNames: ['format'] as const,
      registers,
    }),
    alertsDeduplicated: new Counter({
      name: 'incident_api_alerts_deduplicated_total',
      help: 'Alerts that joined an incident already open for their dedup key instead of opening one, by format.',
      labelNames: ['format'] as const,
      registers,
    }),
    alertsIgnored: new Counter({
      name: 'incident_api_alerts_ignored_total',
      help: 'Alerts not put on a timeline: repeats of a state already recorded, or resolves with no open incident.',
      labelNames: ['format', 'reason'] as const,
      registers,
    }),
  };
}

export type IncidentCounters = ReturnType<typeof incidentCounters>;
