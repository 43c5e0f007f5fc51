// Temporal's answer when a workflow run has taken as many signals as it may (10,000 by default): the request changed
// nothing. The alert stream continues as new long before that, so it is a moment's wait, not a fault.

const SIGNAL_LIMIT = /exceeded workflow execution limit for signal events/i;

/** Whether `error` (or its cause) is Temporal refusing a signal because the run reached its signal limit. */
export function isSignalLimitError(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (SIGNAL_LIMIT.test(e.message) || SIGNAL_LIMIT.test((e as { details?: string }).details ?? '')) return true;
  }
  return false;
}
