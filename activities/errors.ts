// Named errors thrown by activities, and the list of types a retry cannot help.
// Temporal turns a thrown Error into an ApplicationFailure whose type is `error.constructor.name`, so every class name
// here is part of the wire contract: never rename a class without updating retry policies and recorded histories.
// Must never import anything (it stays sandbox-safe and dependency-free) or carry secrets in messages.

/** Base of every error that retrying the same input cannot fix. Its subclasses are listed in NON_RETRYABLE_ERROR_TYPES. */
export class NonRetryableActionError extends Error {
  override name = 'NonRetryableActionError';
}

/** The peer answered with a status that says "do not send this again": 3xx, or 4xx other than 408 and 429. */
export class WebhookRejectedError extends NonRetryableActionError {
  override name = 'WebhookRejectedError';
  constructor(
    message: string,
    readonly url: string,
    readonly status: number,
    readonly bodyExcerpt: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Nothing to preserve: none of the configured evidence paths exist (or a manifest to verify is absent). */
export class EvidenceSourceMissingError extends NonRetryableActionError {
  override name = 'EvidenceSourceMissingError';
}

/** Existing evidence does not match its manifest. Never overwritten automatically: an operator must look. */
export class EvidenceIntegrityError extends NonRetryableActionError {
  override name = 'EvidenceIntegrityError';
}

/** The action's input is malformed (bad ID, bad URL, unserialisable body...): the same input will fail again. */
export class InvalidActionInputError extends NonRetryableActionError {
  override name = 'InvalidActionInputError';
}

/** Retryable: network error, timeout, 5xx, 408 or 429. `status` is absent when no response arrived. */
export class WebhookUnavailableError extends Error {
  override name = 'WebhookUnavailableError';
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** From a Retry-After header, when the peer sent one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** For `RetryPolicy.nonRetryableErrorTypes`: the class names of every NonRetryableActionError. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  NonRetryableActionError.name,
  WebhookRejectedError.name,
  EvidenceSourceMissingError.name,
  EvidenceIntegrityError.name,
  InvalidActionInputError.name,
];
