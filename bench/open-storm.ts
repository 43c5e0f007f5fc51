// `npm run bench:opens`: opening incidents from outside, against the product started from the checkout (`npm start`).
// OPENS_CONCURRENCY callers (default 50) each post `POST /incidents` again as soon as the last answered, for
// OPENS_SECONDS (default 15); every incident is a drill of OPENS_RUNBOOK (default triage), so its actions are
// recorded, not performed. Then: opens per second, the answer's latency, every status, and whether the ids handed out
// are distinct and gapless. Needs a key that may open incidents (OPENS_KEY: operator or commander; the admin key
// `npm start` writes to .data/admin-key.txt will do). Writes bench/results/open-storm.json.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { round, summarize } from './lib/stats';

const API = process.env.OPENS_API_URL ?? 'http://127.0.0.1:8080';
const KEY = process.env.OPENS_KEY;
const CONCURRENCY = Number(process.env.OPENS_CONCURRENCY ?? 50);
const SECONDS = Number(process.env.OPENS_SECONDS ?? 15);
const RUNBOOK = process.env.OPENS_RUNBOOK ?? 'triage';

if (!KEY) {
  console.error('set OPENS_KEY to a key that may open incidents (operator or commander); see the header');
  process.exit(2);
}

interface Answer {
  status: number;
  ms: number;
  incidentId?: string;
  error?: string;
}

async function open(n: number): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${API}/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `open storm ${n}`, runbook: RUNBOOK, drill: true, severity: 'P3' }),
    });
    const body = (await res.json().catch(() => ({}))) as { incidentId?: string; message?: string };
    const ms = performance.now() - started;
    return res.status < 300
      ? { status: res.status, ms, incidentId: body.incidentId }
      : { status: res.status, ms, error: body.message };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, error: String(error) };
  }
}

const answers: Answer[] = [];
const started = performance.now();
const deadline = started + SECONDS * 1000;
let sent = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) answers.push(await open(++sent));
  }),
);
const wallS = (performance.now() - started) / 1000;

const ids = answers.flatMap((a) => (a.incidentId ? [a.incidentId] : []));
const numbers = ids.map((id) => Number(id.split('-').at(-1))).sort((a, b) => a - b);
const distinct = new Set(ids).size === ids.length;
// Gapless: the numbers handed out in this run form one unbroken range (earlier incidents may sit below it).
const gapless = numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1);
const statuses: Record<string, number> = {};
for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
const opened = answers.filter((a) => a.incidentId);
const result = {
  command: 'npm run bench:opens',
  api: API,
  runbook: RUNBOOK,
  concurrency: CONCURRENCY,
  seconds: SECONDS,
  wallSeconds: round(wallS, 2),
  requests: answers.length,
  opened: opened.length,
  opensPerSecond: round(opened.length / wallS, 2),
  latencyMs: summarize(opened.map((a) => a.ms)),
  statuses,
  errors: [...new Set(answers.flatMap((a) => (a.error ? [a.error] : [])))].slice(0, 5),
  ids: { first: ids.length ? `…-${numbers[0]}` : undefined, last: `…-${numbers.at(-1)}`, distinct, gapless },
  aims: { opensPerSecond: 10, latencyP99Ms: 5000 },
};
const file = path.resolve(import.meta.dirname, 'results/open-storm.json');
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
const p99 = result.latencyMs.p99;
console.log(
  `${result.opened} of ${result.requests} opens in ${result.wallSeconds} s: ${result.opensPerSecond}/s, ` +
    `p50 ${result.latencyMs.p50} ms, p99 ${p99} ms; ids distinct ${distinct}, gapless ${gapless}; statuses ` +
    `${JSON.stringify(statuses)}; wrote ${path.relative(process.cwd(), file)}`,
);
process.exit(distinct && gapless && result.opened === result.requests ? 0 : 1);
