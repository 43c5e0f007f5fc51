// Prometheus Alertmanager's webhook payload (version 4), taken verbatim: one incident per `groupKey` (the dedup key,
// scoped to the sending API key),
// every alert of the group on its timeline by `fingerprint`, a resolved notification signalled as resolved alerts.
// Alertmanager re-sends the whole group on every change and repeat: alerts whose fingerprint already has the same
// status on the timeline are skipped, so repeats change nothing. Unknown fields are ignored (newer Alertmanagers).
// Alerts Alertmanager left out of a notification (`truncatedAlerts`, past the receiver's `max_alerts`) are not lost
// silently: they reach the timeline as one alert that says how many.
import { z } from 'zod';
import { MAX_FINGERPRINT_CHARS, MAX_LABELS } from '../../../domain/limits';
import { type IntakeEvent, eventTypeFromLabel, mostSevere, pastTime, severityFromLabel } from './event';

const Labels = z.record(z.string(), z.string());

export const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'expected status firing or resolved' }),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z
    .string()
    .min(1, 'expected the alert fingerprint Alertmanager sends')
    .max(MAX_FINGERPRINT_CHARS, `expected a fingerprint of at most ${MAX_FINGERPRINT_CHARS} characters`),
});

export const AlertmanagerWebhook = z
  .object({
    version: z.literal('4', { error: 'expected an Alertmanager webhook payload of version "4"' }),
    groupKey: z.string().min(1, 'expected the groupKey Alertmanager sends'),
    truncatedAlerts: z.number().int().nonnegative().default(0),
    status: z.enum(['firing', 'resolved'], { error: 'expected status firing or resolved' }),
    receiver: z.string(),
    groupLabels: Labels.default({}),
    commonLabels: Labels.default({}),
    commonAnnotations: Labels.default({}),
    externalURL: z.string().optional(),
    alerts: z.array(AlertmanagerAlert).min(1, 'expected at least one alert'),
  })
  .meta({ id: 'AlertmanagerWebhook', description: 'Prometheus Alertmanager webhook_config payload, version 4.' });
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

function describeLabels(labels: Record<string, string>, skip: string[]): string {
  return Object.entries(labels)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function alertmanagerEvent(payload: AlertmanagerWebhook, now: number): IntakeEvent {
  const { commonLabels, commonAnnotations, groupLabels } = payload;
  const alertname = commonLabels.alertname ?? groupLabels.alertname;
  const grouping = describeLabels(groupLabels, ['alertname']);
  const headline = commonAnnotations.summary ?? commonAnnotations.title ?? alertname ?? 'Alertmanager alert group';
  const title = [
    alertname && headline !== alertname ? `${alertname}: ${headline}` : headline,
    grouping ? `(${grouping})` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const firing = payload.alerts.filter((a) => a.status === 'firing');
  const starts = firing.map((a) => pastTime(a.startsAt, now)).filter((t): t is number => t !== undefined);
  const severity = mostSevere(firing.map((a) => severityFromLabel(a.labels.severity)));
  const eventType = eventTypeFromLabel(commonLabels.event_type);
  return {
    format: 'alertmanager',
    dedupKey: payload.groupKey,
    title,
    ...(severity ? { severity } : {}),
    ...(eventType ? { eventType } : {}),
    ...(starts.length > 0 ? { startedAt: Math.min(...starts) } : {}),
    ...(commonLabels.drill === 'true' ? { drill: true } : {}),
    // Each set is within the label limits; both together may not be, and the incident takes at most MAX_LABELS.
    facts: {
      format: 'alertmanager',
      source: 'alertmanager',
      labels: Object.fromEntries(Object.entries({ ...groupLabels, ...commonLabels }).slice(0, MAX_LABELS)),
    },
    alerts: [
      ...payload.alerts.map((alert) => ({
        source: 'alertmanager',
        status: alert.status,
        summary: alert.annotations.summary ?? alert.annotations.description ?? alert.labels.alertname ?? '',
        fingerprint: alert.fingerprint,
        labels: alert.labels,
      })),
      ...(payload.truncatedAlerts > 0 ? [truncatedAlert(payload.truncatedAlerts, payload.status)] : []),
    ],
    skipRepeats: true,
  };
}

/**
 * The alerts of a group Alertmanager did not send, as one alert naming how many. Its fingerprint carries the number,
 * so a repeat with the same number is skipped like any repeat, and a new number reaches the timeline.
 */
function truncatedAlert(count: number, status: AlertmanagerWebhook['status']) {
  return {
    source: 'alertmanager',
    status,
    summary: `Alertmanager left ${count} more alert${count === 1 ? '' : 's'} of this group out of its notification (max_alerts)`,
    fingerprint: `alertmanager-truncated-${count}`,
    labels: { alertmanager_truncated_alerts: String(count) },
  };
}
