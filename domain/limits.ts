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

/** Object members that hold labels: the label limits apply to them. */
export const LABEL_FIELDS: readonly string[] = [
  'labels',
  'annotations',
  'commonLabels',
  'commonAnnotations',
  'groupLabels',
];
