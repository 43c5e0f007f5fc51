// Size limits on what callers hand the engine, in one place so the HTTP API and the workflow validators and signal
// handlers enforce the same numbers. Bounded input keeps every payload, and so every history event and timeline
// read, far below Temporal's gRPC message (4 MB) and history (50 MB) limits. Pure constants: safe in workflow code.

/** An incident's or an alert's title. */
export const MAX_TITLE_CHARS = 512;
/** Any other text field (summary, description, note, root cause...). */
export const MAX_TEXT_CHARS = 16_384;
/** Labels (and annotations) on one alert or incident. */
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY_CHARS = 128;
export const MAX_LABEL_VALUE_CHARS = 1_024;
/** Items in any list (affected systems, alerts in one Alertmanager delivery...). */
export const MAX_LIST_ITEMS = 200;
/** Members of any other JSON object. */
export const MAX_OBJECT_KEYS = 256;
/** Nesting of JSON objects and lists. */
export const MAX_DEPTH = 16;
/** The whole request body, and so the most one request hands to Temporal. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Past this many events in an incident's history, its validators refuse every operator update that does not take it
 * toward its end (UPDATES' `finishes`): each accepted update adds events, a refused one adds none, so no key can grow an
 * incident's history without bound. Temporal ends a workflow at 51,200 events (and warns at 10,240); the 11,200 left
 * are room for finishing it: the updates still taken, its phases, undoing its steps and closing.
 */
export const MAX_UPDATE_HISTORY_EVENTS = 40_000;

/** Object members that hold labels: the label limits apply to them. */
export const LABEL_FIELDS: readonly string[] = [
  'labels',
  'annotations',
  'commonLabels',
  'commonAnnotations',
  'groupLabels',
];
