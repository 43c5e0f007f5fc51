// PagerDuty Events API v2 (`POST /v2/enqueue` bodies), taken verbatim: trigger opens or joins the incident of its
// `dedup_key`, acknowledge acknowledges it, resolve signals a resolved alert. Severities critical/error/warning/info are
// P0-P3. Replies have PagerDuty's 202 shape `{status, message, dedup_key}` so existing senders read them unchanged.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type IntakeEvent, eventTypeFromLabel, pastTime } from './event';
import { MAX_LABEL_KEY_CHARS, MAX_LABEL_VALUE_CHARS, MAX_LABELS } from '../../../domain/limits';
import type { Severity } from '../../../domain/severity';

export const PD_SEVERITIES = { critical: 'P0', error: 'P1', warning: 'P2', info: 'P3' } as const satisfies Record<
  string,
  Severity
>;

export const PagerDutyEvent = z
  .object({
    routing_key: z.string().optional().describe('Your API key, when the sender cannot set an Authorization header'),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve'], {
      error: 'expected event_action trigger, acknowledge or resolve',
    }),
    dedup_key: z.string().min(1).max(255, 'expected a dedup_key of at most 255 characters').optional(),
    payload: z
      .object({
        summary: z
          .string()
          .min(1, 'expected payload.summary')
          .max(1024, 'expected a payload.summary of at most 1024 characters'),
        source: z.string().min(1, 'expected payload.source, the affected system'),
        severity: z.enum(['critical', 'error', 'warning', 'info'], {
          error: 'expected payload.severity critical, error, warning or info',
        }),
        timestamp: z.string().optional(),
        component: z.string().optional(),
        group: z.string().optional(),
        class: z.string().optional(),
        custom_details: z.unknown().optional(),
      })
      .optional(),
    client: z.string().optional(),
    client_url: z.string().optional(),
    images: z.array(z.unknown()).optional(),
    links: z.array(z.unknown()).optional(),
  })
  .superRefine((event, ctx) => {
    if (event.event_action === 'trigger' && !event.payload) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload'],
        message: 'a trigger event needs a payload with summary, source and severity',
      });
    }
    if (event.event_action !== 'trigger' && !event.dedup_key) {
      ctx.addIssue({
        code: 'custom',
        path: ['dedup_key'],
        message: `an ${event.event_action} event needs the dedup_key of the alert it acts on`,
      });
    }
  })
  .meta({ id: 'PagerDutyEvent', description: 'PagerDuty Events API v2 event.' });
export type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

export const PagerDutyReply = z
  .object({ status: z.string(), message: z.string(), dedup_key: z.string() })
  .meta({ id: 'PagerDutyReply' });

/** The dedup key the sender gave, or a new one (PagerDuty makes one up for a trigger without). */
export function pagerDutyDedupKey(event: PagerDutyEvent): string {
  return event.dedup_key ?? randomUUID();
}

/**
 * custom_details as labels: its plain values (nested ones left out), fitted to the label limits instead of refusing
 * the event (a PagerDuty sender does not retry a refusal): names over MAX_LABEL_KEY_CHARS left out, values cut to
 * MAX_LABEL_VALUE_CHARS, names the payload's own fields take left out, and at most `room` of them, in the sender's
 * order but for `event_type` first (it says which runbook and severity the event gets).
 */
function customLabels(details: unknown, room: number, taken: Record<string, string>): Record<string, string> {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return {};
  const plain = Object.entries(details as Record<string, unknown>).flatMap(([k, v]) =>
    (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') &&
    k.length > 0 &&
    k.length <= MAX_LABEL_KEY_CHARS &&
    !Object.hasOwn(taken, k)
      ? [[k, cut(String(v))] as const]
      : [],
  );
  const first = plain.filter(([k]) => k === 'event_type');
  return Object.fromEntries([...first, ...plain.filter(([k]) => k !== 'event_type')].slice(0, room));
}

const cut = (value: string): string =>
  value.length <= MAX_LABEL_VALUE_CHARS ? value : `${value.slice(0, MAX_LABEL_VALUE_CHARS - 1)}…`;

/** A trigger or resolve as an intake event; `dedupKey` is the sender's (the intake scopes it to the sending key). */
export function pagerDutyEvent(event: PagerDutyEvent, dedupKey: string, now: number): IntakeEvent {
  const payload = event.payload;
  // The payload's own fields win over custom_details of the same name: they are what PagerDuty itself defines.
  const own: Record<string, string> = {
    ...(payload?.source ? { source: cut(payload.source) } : {}),
    ...(payload?.component ? { component: cut(payload.component) } : {}),
    ...(payload?.group ? { group: cut(payload.group) } : {}),
    ...(payload?.class ? { class: cut(payload.class) } : {}),
    ...(payload?.severity ? { severity: payload.severity } : {}),
  };
  const labels: Record<string, string> = {
    ...customLabels(payload?.custom_details, MAX_LABELS - Object.keys(own).length, own),
    ...own,
  };
  const startedAt = pastTime(payload?.timestamp, now);
  const eventType = eventTypeFromLabel(labels.event_type);
  const source = payload?.source ?? 'pagerduty';
  return {
    format: 'pagerduty',
    dedupKey,
    title: payload?.summary ?? `PagerDuty event ${dedupKey}`,
    ...(payload ? { severity: PD_SEVERITIES[payload.severity] } : {}),
    ...(eventType ? { eventType } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(payload?.component ? { affectedSystems: [payload.component] } : {}),
    facts: { format: 'pagerduty', source, labels },
    alerts: [
      {
        source,
        status: event.event_action === 'resolve' ? 'resolved' : 'firing',
        summary: payload?.summary ?? `resolved by PagerDuty event (${dedupKey})`,
        fingerprint: dedupKey,
        labels,
      },
    ],
  };
}
