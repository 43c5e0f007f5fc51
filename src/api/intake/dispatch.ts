// Delivers intake events: opens (or joins) the one incident of the event's dedup key through the registry, then puts
// every alert on that incident's timeline: the first of a delivery that opens it ride in the open request, the rest go
// through the incident's alert stream. The registry makes dedup atomic across processes; inside one process,
// concurrent opens for one key share a single registry call (a storm of identical alerts sends one open, not hundreds
// of updates to one workflow). A cached incident that has since closed is forgotten and the alert opens a new one.
// Resolves never open an incident.
//
// Dedup keys are scoped to the intake format and the sending API key (`<format>:<key name>:<sender's key>`), so a
// detector can only ever join, label or acknowledge incidents its own alerts opened. Alerts no runbook's match rules
// select go to the default or triage runbook; an alert naming a runbook that does not exist too, with the reason.
// An incident opened within the enhanced-monitoring window of the key's last resolved incident says it recurs it.
import { WorkflowNotFoundError } from '@temporalio/client';
import { type IncidentClient, IncidentNotFoundError, UpdateRefusedError } from '../../client';
import { type RunbookChoice, selectRunbook } from '../../runbooks/match';
import { classifyAlert } from '../../../domain/classification';
import { classify } from '../../../domain/incident';
import { type Severity, severityRank } from '../../../domain/severity';
import { AlertSignalInput } from '../../../domain/messages';
import type { RecurrenceOf } from '../../../domain/recurrence';
import { INTAKE_FORMATS, type IntakeFormat, type RunbookPlan } from '../../../domain/runbook';
import {
  REGISTRY_WORKFLOW_ID,
  type OpenIncidentResult,
  incidentClosedSignal,
  registryStateQuery,
} from '../../../workflows/definitions';
import type { ApiMetrics, IncidentCounters } from '../metrics';
import type { IntakeEvent } from './event';
import { alertChars } from '../../../domain/alert-batch';
import { MAX_OPENING_ALERTS, MAX_OPENING_ALERTS_CHARS } from '../../../domain/limits';

export interface DeliveryResult {
  /** Undefined when only resolved alerts came and no incident was open for the key. */
  incidentId?: string;
  created: boolean;
  /** The runbook that took the alert, and why (a match rule, the default, triage), when this delivery opened one. */
  runbook?: { id: string; reason: string };
  /** The incident of the same dedup key resolved within its enhanced-monitoring window, when this one recurs it. */
  recurrenceOf?: RecurrenceOf;
  /** Alerts put on the timeline. */
  recorded: number;
  /** Alerts skipped: repeats of a recorded state, or resolves with nothing open. */
  ignored: number;
}

export interface AlertIntakeOptions {
  incidents: IncidentClient;
  runbooks: () => Map<string, RunbookPlan>;
  defaultRunbook?: string;
  metrics: ApiMetrics;
  /** Most dedup keys remembered in this process. */
  cacheSize?: number;
}

/** How often a process re-checks that a cached key's incident still runs (it may be terminated outside the engine). */
export const RECHECK_MS = 1_000;

/** Runs `task` after every earlier task with the same key (a per-key queue inside this process). */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/** The registry's dedup key of an event from the key named `by`: one namespace per intake format and sending key. */
export function scopedDedupKey(event: Pick<IntakeEvent, 'format' | 'dedupKey'>, by: string): string {
  return `${event.format}:${by}:${event.dedupKey}`;
}

/** The intake format whose namespace a dedup key is in (scopedDedupKey's), if any: only detectors' alerts use those. */
export function intakeNamespace(dedupKey: string): IntakeFormat | undefined {
  return INTAKE_FORMATS.find((format) => dedupKey.startsWith(`${format}:`));
}

/**
 * The event's severity from both procedure documents: the most severe of what its labels (the group's, then each
 * firing alert's) and event type meet, and the sender's own.
 */
export function eventSeverity(event: IntakeEvent): ReturnType<typeof classifyAlert> {
  const eventType = event.eventType ?? 'other';
  const labelSets = [
    event.facts.labels,
    ...event.alerts.filter((a) => a.status === 'firing').map((a) => a.labels ?? {}),
  ];
  return labelSets
    .map((labels) => classifyAlert({ eventType, labels, ...(event.severity ? { given: event.severity } : {}) }))
    .reduce((best, next) => (severityRank(next.severity) < severityRank(best.severity) ? next : best));
}

/**
 * The first of a delivery's alerts that fit in the open request (domain/limits.ts): the incident records them at its
 * opening. The rest, and every alert of a delivery that joins an open incident, go through its alert stream.
 */
export function openingAlerts(alerts: readonly AlertSignalInput[]): AlertSignalInput[] {
  let count = 0;
  let chars = 2; // the list's brackets, and a comma before each alert but the first
  while (count < Math.min(alerts.length, MAX_OPENING_ALERTS)) {
    chars += alertChars(AlertSignalInput.parse(alerts[count])) + (count > 0 ? 1 : 0);
    if (chars > MAX_OPENING_ALERTS_CHARS) break;
    count++;
  }
  return alerts.slice(0, count);
}

/** An open's answer, with the runbook chosen and how many of the delivery's alerts rode in the open request. */
type Opened = OpenIncidentResult & { runbook: { id: string; reason: string }; atOpening: number };

export class AlertIntake {
  private readonly openByKey = new Map<string, Promise<Opened>>();
  /** When this process last checked that the incident of a key is still running. */
  private readonly checkedAt = new Map<string, number>();
  /** Fingerprint -> last status recorded, per incident (Alertmanager repeats). */
  private readonly fingerprints = new Map<string, Map<string, AlertSignalInput['status']>>();
  private readonly queue = new KeyedQueue();
  private readonly cacheSize: number;

  constructor(private readonly options: AlertIntakeOptions) {
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  /** Which runbook an event gets (named, or by the runbooks' match rules). */
  chooseRunbook(event: IntakeEvent): RunbookChoice {
    const plans = this.options.runbooks();
    if (event.runbook !== undefined) {
      const plan = plans.get(event.runbook);
      if (plan) return { plan, reason: 'named by the alert' };
      // A runbook renamed or removed must not lose the alert: the match rules (or the default, or triage) take it.
      const choice = selectRunbook(plans, event.facts, this.options.defaultRunbook, event.eventType);
      return {
        ...choice,
        reason: `the alert names runbook "${event.runbook}", which does not exist; ${choice.reason}`,
      };
    }
    return selectRunbook(plans, event.facts, this.options.defaultRunbook, event.eventType);
  }

  /**
   * The severity to open with: the sender's, or both documents' criteria when they say more than the incident's own
   * assessment of the event type would (then the timeline's `classified` keeps basis `assessment` when they agree).
   */
  private severityFor(event: IntakeEvent): { severity?: Severity } {
    const combined = eventSeverity(event).severity;
    if (event.severity === undefined && combined === classify(event.eventType ?? 'other', undefined).severity)
      return {};
    return { severity: combined };
  }

  /** The open incident for a dedup key, opening one when there is none. Concurrent callers share one open. */
  private openFor(event: IntakeEvent, by: string): { result: Promise<Opened>; shared: boolean } {
    const dedupKey = scopedDedupKey(event, by);
    const cached = this.openByKey.get(dedupKey);
    if (cached) return { result: cached.then((r) => ({ ...r, created: false })), shared: true };
    const choice = this.chooseRunbook(event);
    const opening = this.severityFor(event);
    const alerts = openingAlerts(event.alerts);
    const result = this.options.incidents
      .open(
        {
          title: event.title,
          trigger: `${event.format}:${by}`,
          dedupKey,
          ...opening,
          ...(event.eventType ? { eventType: event.eventType } : {}),
          ...(event.category ? { category: event.category } : {}),
          ...(event.startedAt !== undefined ? { startedAt: event.startedAt } : {}),
          ...(event.affectedSystems ? { affectedSystems: event.affectedSystems } : {}),
          // The labels runbook matching looked at become the incident's: steps read them as ${alert.labels.<name>}.
          ...(Object.keys(event.facts.labels).length > 0 ? { labels: event.facts.labels } : {}),
          source: event.facts.source,
          drill: event.drill ?? false,
          alerts,
        },
        choice.plan,
      )
      .then((r): Opened => {
        if (r.created) this.metricsFor(event).incidentsOpened.inc({ via: event.format });
        return { ...r, runbook: { id: choice.plan.id, reason: choice.reason }, atOpening: alerts.length };
      });
    this.remember(dedupKey, result);
    result.catch(() => this.forget(dedupKey, result));
    return { result, shared: false };
  }

  private remember(key: string, result: Promise<Opened>): void {
    this.openByKey.delete(key);
    this.openByKey.set(key, result);
    if (this.openByKey.size > this.cacheSize) {
      const oldest = this.openByKey.keys().next().value;
      if (oldest !== undefined) this.openByKey.delete(oldest);
    }
  }

  private forget(key: string, result?: Promise<Opened>): void {
    if (result === undefined || this.openByKey.get(key) === result) this.openByKey.delete(key);
  }

  /** The open incident for a key without opening one: this process's cache, else the registry's index. */
  async findOpen(dedupKey: string): Promise<string | undefined> {
    const cached = this.openByKey.get(dedupKey);
    if (cached) {
      const id = await cached.then((r) => r.incidentId).catch(() => undefined);
      if (id !== undefined) return id;
    }
    try {
      const state = await this.options.incidents.client.workflow
        .getHandle(REGISTRY_WORKFLOW_ID)
        .query(registryStateQuery);
      return state.openByDedupKey[dedupKey];
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** Whether the incident cached for `key` is due a running check (always for one this process has just met). */
  private recheckDue(key: string, cached: boolean): boolean {
    const now = Date.now();
    const last = this.checkedAt.get(key);
    if (cached && last !== undefined && now - last < RECHECK_MS) return false;
    this.checkedAt.delete(key);
    this.checkedAt.set(key, now);
    if (this.checkedAt.size > this.cacheSize) this.checkedAt.delete(this.checkedAt.keys().next().value!);
    return true;
  }

  /**
   * When the incident a key names is no longer running (closed, terminated, reset, gone), tells the registry to free
   * the key (the signal a closing incident sends itself; it frees the key only while it still names that incident).
   * Returns whether it had ended.
   */
  private async releaseIfEnded(dedupKey: string, incidentId: string): Promise<boolean> {
    const { client } = this.options.incidents;
    try {
      const { status } = await client.workflow.getHandle(incidentId).describe();
      if (status.name === 'RUNNING') return false;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    await client.workflow.getHandle(REGISTRY_WORKFLOW_ID).signal(incidentClosedSignal, { incidentId, dedupKey });
    return true;
  }

  /** Drills are counted apart, so they stay out of every served metric. */
  private metricsFor(event: IntakeEvent): IncidentCounters {
    return event.drill ? this.options.metrics.drill : this.options.metrics;
  }

  /** Opens or joins the incident of `event.dedupKey` and records its alerts. `by` names the sender (its key). */
  async deliver(event: IntakeEvent, by: string): Promise<DeliveryResult> {
    const metrics = this.metricsFor(event);
    metrics.alertsReceived.inc({ format: event.format }, event.alerts.length);
    const firing = event.alerts.some((a) => a.status === 'firing');
    if (!firing) return this.deliverResolved(event, scopedDedupKey(event, by));

    const dedupKey = scopedDedupKey(event, by);
    for (let attempt = 1; ; attempt++) {
      const { result, shared } = this.openFor(event, by);
      const opened = await result;
      // The incident a key names may have ended outside the engine (terminated, reset): checked when this process
      // first meets the key and again at most every RECHECK_MS; the registry then drops it and the alert opens anew.
      if (
        !opened.created &&
        attempt < 2 &&
        this.recheckDue(dedupKey, shared) &&
        (await this.releaseIfEnded(dedupKey, opened.incidentId))
      ) {
        this.forget(dedupKey);
        continue;
      }
      if (!opened.created)
        metrics.alertsDeduplicated.inc(
          { format: event.format },
          event.alerts.filter((a) => a.status === 'firing').length,
        );
      try {
        // An incident this delivery opened recorded its first alerts at its opening: only the rest are sent.
        const atOpening = opened.created ? opened.atOpening : 0;
        const rest = { ...event, alerts: event.alerts.slice(atOpening) };
        const sent = rest.alerts.length > 0 ? await this.record(opened.incidentId, rest) : { recorded: 0, ignored: 0 };
        const recorded = atOpening + sent.recorded;
        const { ignored } = sent;
        return {
          incidentId: opened.incidentId,
          created: opened.created,
          ...(opened.created ? { runbook: opened.runbook } : {}),
          ...(opened.created && opened.recurrenceOf ? { recurrenceOf: opened.recurrenceOf } : {}),
          recorded,
          ignored,
        };
      } catch (error) {
        // The incident closed since it was cached (or since the registry answered): open a new one, once.
        if (attempt < 2 && (error instanceof UpdateRefusedError || error instanceof IncidentNotFoundError)) {
          this.forget(dedupKey);
          await this.releaseIfEnded(dedupKey, opened.incidentId);
          continue;
        }
        throw error;
      }
    }
  }

  private async deliverResolved(event: IntakeEvent, dedupKey: string): Promise<DeliveryResult> {
    const incidentId = await this.findOpen(dedupKey);
    if (incidentId === undefined) {
      this.metricsFor(event).alertsIgnored.inc(
        { format: event.format, reason: 'no_open_incident' },
        event.alerts.length,
      );
      return { created: false, recorded: 0, ignored: event.alerts.length };
    }
    try {
      const { recorded, ignored } = await this.record(incidentId, event);
      return { incidentId, created: false, recorded, ignored };
    } catch (error) {
      if (error instanceof UpdateRefusedError || error instanceof IncidentNotFoundError) {
        this.forget(dedupKey);
        this.metricsFor(event).alertsIgnored.inc(
          { format: event.format, reason: 'no_open_incident' },
          event.alerts.length,
        );
        return { created: false, recorded: 0, ignored: event.alerts.length };
      }
      throw error;
    }
  }

  /** Signals each alert; with `skipRepeats`, one delivery per incident at a time and repeats skipped. */
  private async record(incidentId: string, event: IntakeEvent): Promise<{ recorded: number; ignored: number }> {
    const { incidents } = this.options;
    const metrics = this.metricsFor(event);
    if (!event.skipRepeats) {
      for (const alert of event.alerts) await incidents.deliverAlert(incidentId, alert);
      return { recorded: event.alerts.length, ignored: 0 };
    }
    return this.queue.run(incidentId, async () => {
      let known = this.fingerprints.get(incidentId);
      if (!known) {
        known = new Map();
        for (const e of await incidents.timeline(incidentId)) {
          if (e.type === 'alert' && e.fingerprint !== undefined) known.set(e.fingerprint, e.status);
        }
        this.fingerprints.set(incidentId, known);
        if (this.fingerprints.size > this.cacheSize) {
          const oldest = this.fingerprints.keys().next().value;
          if (oldest !== undefined) this.fingerprints.delete(oldest);
        }
      }
      let recorded = 0;
      let ignored = 0;
      for (const alert of event.alerts) {
        if (alert.fingerprint !== undefined && known.get(alert.fingerprint) === alert.status) {
          ignored++;
          continue;
        }
        await incidents.deliverAlert(incidentId, alert);
        if (alert.fingerprint !== undefined) known.set(alert.fingerprint, alert.status);
        recorded++;
      }
      if (ignored > 0) metrics.alertsIgnored.inc({ format: event.format, reason: 'repeat' }, ignored);
      return { recorded, ignored };
    });
  }

  /**
   * PagerDuty `acknowledge`: acknowledges the open incident of the sender's key (`dedupKey` as the sender spells it,
   * scoped here to the format and `by`); false when none is open or it was already.
   */
  async acknowledge(
    format: IntakeEvent['format'],
    dedupKey: string,
    by: string,
  ): Promise<{ incidentId?: string; acknowledged: boolean; reason?: string }> {
    const incidentId = await this.findOpen(scopedDedupKey({ format, dedupKey }, by));
    if (incidentId === undefined) return { acknowledged: false, reason: 'no open incident has this dedup_key' };
    try {
      await this.options.incidents.acknowledge(incidentId, { by, note: 'acknowledge event from the detector' });
      return { incidentId, acknowledged: true };
    } catch (error) {
      if (error instanceof UpdateRefusedError) return { incidentId, acknowledged: false, reason: error.message };
      if (error instanceof IncidentNotFoundError)
        return { acknowledged: false, reason: 'no open incident has this dedup_key' };
      throw error;
    }
  }
}
