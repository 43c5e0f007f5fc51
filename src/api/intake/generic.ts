// Our own JSON alert, for detectors without a format of their own (scripts, SIEM rules, cron checks). One alert per
// request; it names its dedup key (default: source plus fingerprint, or plus a hash of title and labels) and may name
// its runbook. Strict: a misspelt field is an error, not silently dropped.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type IntakeEvent, pastTime } from './event';
import { Category, EventType } from '../../../domain/incident';
import { MAX_FINGERPRINT_CHARS } from '../../../domain/limits';
import { Severity } from '../../../domain/severity';
import { RecurrenceView } from '../schemas';

export const GenericAlert = z
  .object({
    source: z.string().trim().min(1, 'expected source: what detected it, like "waf" or "siem"'),
    title: z.string().trim().min(1, 'expected title: what is happening'),
    status: z.enum(['firing', 'resolved'], { error: 'expected status firing or resolved' }).default('firing'),
    severity: Severity.optional(),
    eventType: EventType.optional(),
    category: Category.optional(),
    labels: z.record(z.string(), z.string()).default({}),
    fingerprint: z
      .string()
      .min(1)
      .max(MAX_FINGERPRINT_CHARS, `expected a fingerprint of at most ${MAX_FINGERPRINT_CHARS} characters`)
      .optional(),
    dedupKey: z.string().min(1).max(512).optional().describe('Alerts with one key share one open incident'),
    runbook: z.string().min(1).optional().describe("Runbook id; otherwise the runbooks' match rules decide"),
    affectedSystems: z.array(z.string().min(1)).optional(),
    startedAt: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]).optional(),
    drill: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'GenericAlert' });
export type GenericAlert = z.infer<typeof GenericAlert>;

export const GenericReply = z
  .object({
    incidentId: z.string().optional().describe('Absent when a resolve found no open incident'),
    created: z.boolean(),
    dedupKey: z.string().describe("The alert's dedup key, as this key's alerts name it"),
    runbook: z
      .object({ id: z.string(), reason: z.string() })
      .optional()
      .describe('The runbook that took the alert (a match rule, the default, or triage), when it opened the incident'),
    recurrenceOf: RecurrenceView.optional(),
  })
  .meta({ id: 'GenericAlertReply' });

export function genericDedupKey(alert: GenericAlert): string {
  if (alert.dedupKey) return alert.dedupKey;
  if (alert.fingerprint) return `${alert.source}:${alert.fingerprint}`;
  const labels = Object.entries(alert.labels).sort(([a], [b]) => a.localeCompare(b));
  const digest = createHash('sha256')
    .update(JSON.stringify([alert.title, labels]))
    .digest('hex')
    .slice(0, 16);
  return `${alert.source}:${digest}`;
}

export function genericEvent(alert: GenericAlert, now: number): IntakeEvent {
  const startedAt = typeof alert.startedAt === 'string' ? pastTime(alert.startedAt, now) : alert.startedAt;
  return {
    format: 'generic',
    dedupKey: genericDedupKey(alert),
    title: alert.title,
    ...(alert.severity ? { severity: alert.severity } : {}),
    ...(alert.eventType ? { eventType: alert.eventType } : {}),
    ...(alert.category ? { category: alert.category } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(alert.drill ? { drill: true } : {}),
    ...(alert.affectedSystems ? { affectedSystems: alert.affectedSystems } : {}),
    ...(alert.runbook ? { runbook: alert.runbook } : {}),
    facts: { format: 'generic', source: alert.source, labels: alert.labels },
    alerts: [
      {
        source: alert.source,
        status: alert.status,
        summary: alert.title,
        ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}),
        labels: alert.labels,
      },
    ],
  };
}
