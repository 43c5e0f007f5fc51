// Size limits on what callers hand the engine, in one place so the HTTP API and the workflow validators and signal
// handlers enforce the same numbers. Bounded input keeps every payload, and so every history event and timeline
// read, far below Temporal's gRPC message (4 MB) and history (50 MB) limits. Pure constants: safe in workflow code.

/** An incident's or an alert's title, and an owner's name (the incident's or a follow-up's). */
export const MAX_TITLE_CHARS = 512;
/** Any other text field (summary, description, note, root cause...). */
export const MAX_TEXT_CHARS = 16_384;
/** Labels on one alert or incident (annotations are text: MAX_TEXT_CHARS each, MAX_OBJECT_KEYS of them). */
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY_CHARS = 128;
export const MAX_LABEL_VALUE_CHARS = 1_024;
/** Items in any list (affected systems, notes...). */
export const MAX_LIST_ITEMS = 200;
/**
 * An incident's notes, lessons and follow-ups together, in UTF-8 bytes of JSON. Every update is answered with the
 * incident's view, which holds them, and one answer is one payload (Temporal refuses more than 2 MB, and fails the
 * workflow's task again and again): 200 notes of MAX_TEXT_CHARS would be 3.2 MB, and 9.6 MB in a script of
 * three-byte characters. Half a megabyte is some 250 pages of text.
 */
export const MAX_RECORDS_BYTES = 512 * 1024;
/**
 * Alerts in one Alertmanager delivery: a group of a fleet-wide outage is taken whole (Alertmanager does not retry a
 * refusal), within the body's byte limit; the intake signals them in batches of ALERT_BATCH_MAX.
 */
export const MAX_ALERTS_PER_DELIVERY = 1_000;
/**
 * Alerts an incident opens with (the delivery that opened it): they ride in the open request, which the registry
 * records and may carry across its continue-as-new, so they are few and small. A delivery's other alerts go through
 * the incident's alert stream.
 */
export const MAX_OPENING_ALERTS = 20;
export const MAX_OPENING_ALERTS_CHARS = 32 * 1024;
/** Members of any other JSON object. */
export const MAX_OBJECT_KEYS = 256;
/** Nesting of JSON objects and lists. */
export const MAX_DEPTH = 16;
/**
 * An alert's fingerprint (Alertmanager sends 16 hex digits, PagerDuty allows 255 characters of dedup_key). The alert
 * stream keys its book by fingerprint and carries the book across continue-as-new: 1,000 tracked fingerprints of this
 * size keep it far below Temporal's 2 MB payload limit.
 */
export const MAX_FINGERPRINT_CHARS = 256;
/**
 * Characters of alerts (as JSON) in one batch signal, besides ALERT_BATCH_MAX alerts: a hundred alerts of the
 * largest size allowed would be ten times Temporal's 2 MB payload limit. One alert always fits.
 */
export const MAX_ALERT_BATCH_CHARS = 512 * 1024;
/** The whole request body, and so the most one request hands to Temporal. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Past this many events in an incident's history, its validators refuse every operator update that does not take it
 * toward its end (UPDATES' `finishes`): each accepted update adds events, a refused one adds none, so no key can grow an
 * incident's history without bound. Temporal ends a workflow at 51,200 events (and warns at 10,240); the 11,200 left
 * are room for finishing it: the updates still taken, its phases, undoing its steps and closing.
 */
export const MAX_UPDATE_HISTORY_EVENTS = 40_000;

/**
 * A drill scenario's scripted events and simulated length. A drill runs on the time-skipping test server, which does
 * not continue a run as new atomically (temporalio/sdk-java#1538: a phase child's signal arriving meanwhile is lost),
 * so a drill's incident must stay well below CONTINUE_AS_NEW_AFTER_EVENTS (8,000). Measured: a P1 left alone for a
 * week records 1,959 events; the shipped scenarios, 22 to 25 events per scripted event all told.
 */
export const MAX_DRILL_SCRIPT_ENTRIES = 200;
export const MAX_DRILL_DURATION_MS = 7 * 24 * 3_600_000;

/**
 * A runbook's steps, in all phases together, and its compiled plan in UTF-8 bytes of JSON. An incident pins the plan
 * (a local activity's result in its history), carries it into every run when it continues as new beside up to 1.2 MB
 * of state, and its view lists every step with its output (at most 4 KiB each, `compactBody`): within Temporal's
 * 2 MB a payload. The shipped runbooks have at most 37 steps and 25 KB.
 */
export const MAX_RUNBOOK_STEPS = 100;
export const MAX_PLAN_BYTES = 256 * 1024;

/** Object members that hold labels: the label limits apply to them. */
export const LABEL_FIELDS: readonly string[] = ['labels', 'commonLabels', 'groupLabels'];
