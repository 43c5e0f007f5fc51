// Every named error an activity throws. Temporal records an error's name as its failure type, so each class is named
// after itself (ActivityError sets it) and its name is part of the wire contract; which of them a retry cannot fix is
// decided by the table in domain/errors.ts, which the workflows' retry policies and activities/index.ts both read.
// Must never carry secrets (header values, URL query strings, passwords) in a message.

/** Names itself after its class: the failure type workflow history records. */
export class ActivityError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Base of every error that retrying the same input cannot fix; each subclass is in NON_RETRYABLE_ERROR_TYPES. */
export class NonRetryableActionError extends ActivityError {}

// --- Input and configuration ---

/** The action's input is malformed (bad ID, bad URL, unserialisable body...): the same input will fail again. */
export class InvalidActionInputError extends NonRetryableActionError {}

/** The action needs configuration that is absent: no `emergencyApi`, no connector for the action. */
export class ActionNotConfiguredError extends NonRetryableActionError {}

/** A value is configured as `{ fromEnv: NAME }` and NAME is not set (or empty) in the worker's environment. */
export class MissingSecretError extends NonRetryableActionError {}

// --- HTTP (activities/http/client.ts) ---

/** What an HTTP failure carries besides its message: the target (redacted), the status, the peer's words. */
export interface HttpFailure {
  /** origin and path, or less where the path is a secret (a Slack webhook). */
  url: string;
  /** Absent when no response arrived. */
  status?: number;
  /** The start of the response body. */
  bodyExcerpt?: string;
  /** From a Retry-After header (delay-seconds), when the peer sent one. */
  retryAfterMs?: number;
}

/** Retryable: network error, timeout, 5xx, 408 or 429. */
export class HttpUnavailableError extends ActivityError {
  readonly url: string;
  readonly status?: number;
  readonly bodyExcerpt?: string;
  readonly retryAfterMs?: number;
  constructor(message: string, failure: HttpFailure, options?: ErrorOptions) {
    super(message, options);
    this.url = failure.url;
    this.status = failure.status;
    this.bodyExcerpt = failure.bodyExcerpt;
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/** The peer answered with a final status: 3xx, or 4xx other than 408 and 429 (or a status `expectStatus` excludes). */
export class HttpRejectedError extends NonRetryableActionError {
  readonly url: string;
  readonly status: number;
  readonly bodyExcerpt: string;
  constructor(message: string, failure: Required<Omit<HttpFailure, 'retryAfterMs'>>, options?: ErrorOptions) {
    super(message, options);
    this.url = failure.url;
    this.status = failure.status;
    this.bodyExcerpt = failure.bodyExcerpt;
  }
}

/** 401 or 403: the configured credentials are missing, wrong or not allowed to do this. Retrying cannot fix it. */
export class HttpAuthError extends HttpRejectedError {}

/** http.request to a host that is not in `http.allowHosts`. */
export class HostNotAllowedError extends NonRetryableActionError {}

/** A 2xx answer whose body is not what the action needs (not JSON, a field missing). */
export class UnexpectedResponseError extends NonRetryableActionError {}

/** The application reported integrity violations: the step fails, visibly, and an operator must look. */
export class IntegrityViolationError extends NonRetryableActionError {
  constructor(
    message: string,
    readonly violations: unknown[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// --- E-mail (activities/notify/smtp.ts) ---

/** Retryable: connection refused or dropped, timeout, 4xx, or a 503 out of sequence. */
export class SmtpUnavailableError extends ActivityError {
  constructor(
    message: string,
    readonly code?: string,
    readonly responseCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server refused the message for good (5xx other than 503), or refused the credentials. */
export class SmtpRejectedError extends NonRetryableActionError {
  constructor(
    message: string,
    readonly responseCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// --- Evidence and quarantine ---

/** Nothing to preserve: none of the configured evidence paths exist (or a manifest to verify is absent). */
export class EvidenceSourceMissingError extends NonRetryableActionError {}

/** Existing evidence does not match its manifest. Never overwritten automatically: an operator must look. */
export class EvidenceIntegrityError extends NonRetryableActionError {}

/** The path is outside the roots, not a regular file, or the move would overwrite or contradict earlier work. */
export class QuarantineRefusedError extends NonRetryableActionError {}

/** A quarantined payload, or a restored file, does not match the SHA-256 in its record. Left untouched. */
export class QuarantineIntegrityError extends NonRetryableActionError {}

/** Nothing to move: the file does not exist, or no quarantine record names it. */
export class QuarantineSourceMissingError extends NonRetryableActionError {}
