// `npm run bench:storm`: the detector-path check against the product started from the checkout (`npm start`).
// STORM_COUNT alerts (default 20,000) with one dedup key and distinct fingerprints go through POST /intake/alerts at
// STORM_CONCURRENCY; then: every answer 2xx, one incident, GET /incidents/{id} answered within 3 s, the alert counts
// exact, and the current runs of the incident and its alert stream under Temporal's 10,240-event warning.
// Needs a detector key (STORM_DETECTOR_KEY) and a key that may read (STORM_READ_KEY), made with `apikey create`, and a
// detector rate limit above the storm's rate (`api.rateLimit.detector` in incident-engine.yaml).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { connectClosable } from '../src/temporal/closable-connection';
import pLimit from 'p-limit';
import { alertStreamId } from '../workflows/definitions';

const API = process.env.STORM_API_URL ?? 'http://127.0.0.1:8080';
const TEMPORAL = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const COUNT = Number(process.env.STORM_COUNT ?? 20_000);
const CONCURRENCY = Number(process.env.STORM_CONCURRENCY ?? 32);
const DETECTOR_KEY = process.env.STORM_DETECTOR_KEY;
const READ_KEY = process.env.STORM_READ_KEY;
const WARNING_EVENTS = 10_240;

if (!DETECTOR_KEY || !READ_KEY) {
  console.error('set STORM_DETECTOR_KEY (role detector) and STORM_READ_KEY (any role that reads); see the header');
  process.exit(2);
}

async function request(method: string, url: string, key: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

const dedupKey = `storm-${Date.now()}`;
const statuses = new Map<number, number>();
const incidents = new Set<string>();
const started = Date.now();
const limit = pLimit(CONCURRENCY);
await Promise.all(
  Array.from({ length: COUNT }, (_, i) =>
    limit(async () => {
      const res = await request('POST', `${API}/intake/alerts`, DETECTOR_KEY, {
        source: 'storm',
        title: 'backend unhealthy',
        severity: 'P3',
        dedupKey,
        fingerprint: `fp-${i}`,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (typeof res.body.incidentId === 'string') incidents.add(res.body.incidentId);
    }),
  ),
);
const sendSeconds = (Date.now() - started) / 1000;
const [incidentId] = incidents;
if (!incidentId) throw new Error(`no incident opened; answers by status: ${JSON.stringify([...statuses])}`);

const readStarted = Date.now();
const read = await request('GET', `${API}/incidents/${incidentId}`, READ_KEY);
const readMs = Date.now() - readStarted;

// The stream forwards counts every few seconds: wait until they settle at the total (or a minute passes).
let counts: Record<string, unknown> | undefined;
for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
  const view = await request('GET', `${API}/incidents/${incidentId}`, READ_KEY);
  counts = view.body.alertCounts as Record<string, unknown> | undefined;
  if (counts?.total === COUNT) break;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

const connection = await connectClosable({ address: TEMPORAL });
const client = new Client({ connection });
const historyOf = async (id: string) => (await client.workflow.getHandle(id).describe()).historyLength;
const result = {
  alerts: COUNT,
  concurrency: CONCURRENCY,
  send_seconds: sendSeconds,
  alerts_per_s: Math.round(COUNT / sendSeconds),
  answers_by_status: Object.fromEntries(statuses),
  incidents_opened: incidents.size,
  get_status: read.status,
  get_ms: readMs,
  incident_status: read.body.status,
  alert_counts: counts,
  incident_history_events: await historyOf(incidentId),
  alert_stream_history_events: await historyOf(alertStreamId(incidentId)),
};
await connection.close();

const checks = {
  all_2xx: [...statuses.keys()].every((s) => s >= 200 && s < 300),
  one_incident: incidents.size === 1,
  get_within_3s: read.status === 200 && readMs <= 3_000,
  counts_exact: counts?.total === COUNT,
  histories_under_warning:
    result.incident_history_events < WARNING_EVENTS && result.alert_stream_history_events < WARNING_EVENTS,
};
const out = { measured: new Date().toISOString(), ...result, checks };
writeFileSync(path.join(import.meta.dirname, 'results', 'intake-storm.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
