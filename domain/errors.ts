// The failure types activities throw, and which of them retrying the same input cannot fix. The one table: workflows
// list the non-retryable types in their activities' retry policies (RetryPolicy.nonRetryableErrorTypes), and
// activities/index.ts marks the same types non-retryable when they are thrown. Each type is an error class's name in
// activities/errors.ts (or activities/ledger.ts), recorded in workflow history: never rename one.
// Sandbox-safe: plain data, read by workflow code.

/** Failures a retry cannot help: bad input, missing configuration, a final answer from a peer, broken evidence. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'NonRetryableActionError',
  'InvalidActionInputError',
  'ActionNotConfiguredError',
  'MissingSecretError',
  'HttpRejectedError',
  'HttpAuthError',
  'HostNotAllowedError',
  'UnexpectedResponseError',
  'IntegrityViolationError',
  'SmtpRejectedError',
  'EvidenceSourceMissingError',
  'EvidenceIntegrityError',
  'QuarantineRefusedError',
  'QuarantineIntegrityError',
  'QuarantineSourceMissingError',
  'LedgerCorruptError',
] as const;
export type NonRetryableErrorType = (typeof NON_RETRYABLE_ERROR_TYPES)[number];

/** Failures worth another attempt: the peer or a lock may be free next time. Anything unlisted is retried too. */
export const RETRYABLE_ERROR_TYPES = ['HttpUnavailableError', 'SmtpUnavailableError', 'LedgerBusyError'] as const;

export function isNonRetryable(type: string): boolean {
  return (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(type);
}
