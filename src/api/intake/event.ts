// What every intake format is turned into: one group of alerts for one dedup key, with what opening an incident needs
// and what runbook matching looks at. Also the label conventions shared by the formats (severity, event type).
import type { AlertFacts } from '../../runbooks/match';
import { type Category, EVENT_TYPES, type EventType } from '../../../domain/incident';
import type { AlertSignalInput } from '../../../domain/messages';
import type { IntakeFormat } from '../../../domain/runbook';
import type { Severity } from '../../../domain/severity';

export interface IntakeEvent {
  format: IntakeFormat;
  /** The sender's dedup key: one open incident per key, format and sending API key (see scopedDedupKey). */
  dedupKey: string;
  /** For opening, when no incident is open for the key. */
  title: string;
  severity?: Severity;
  eventType?: EventType;
  category?: Category;
  startedAt?: number;
  drill?: boolean;
  affectedSystems?: string[];
  /** A runbook the sender named; otherwise the runbooks' match rules decide. */
  runbook?: string;
  facts: AlertFacts;
  /** Put on the incident's timeline, in order. */
  alerts: AlertSignalInput[];
  /** Skip alerts whose fingerprint already has this status on the timeline (Alertmanager re-sends whole groups). */
  skipRepeats?: boolean;
}

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'P0',
  p0: 'P0',
  high: 'P1',
  error: 'P1',
  major: 'P1',
  p1: 'P1',
  warning: 'P2',
  warn: 'P2',
  medium: 'P2',
  p2: 'P2',
  info: 'P3',
  low: 'P3',
  minor: 'P3',
  p3: 'P3',
};

/** A `severity` label (critical, error/high, warning, info/low, or P0-P3) as our scale; undefined otherwise. */
export function severityFromLabel(value: string | undefined): Severity | undefined {
  return value === undefined ? undefined : SEVERITY_WORDS[value.trim().toLowerCase()];
}

export function mostSevere(severities: (Severity | undefined)[]): Severity | undefined {
  return severities.filter((s): s is Severity => s !== undefined).sort()[0];
}

/** An `event_type` label naming one of our event types, else undefined. */
export function eventTypeFromLabel(value: string | undefined): EventType | undefined {
  return value !== undefined && (EVENT_TYPES as readonly string[]).includes(value) ? (value as EventType) : undefined;
}

/** Epoch ms of an ISO time when it is a real time in the past; undefined otherwise (Alertmanager's zero time, junk). */
export function pastTime(iso: string | undefined, now: number): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 && ms <= now ? ms : undefined;
}
