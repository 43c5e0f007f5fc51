// How workflows call the notification activities: a peer that is down is retried for a few minutes, a refusal that
// retrying cannot fix (NON_RETRYABLE_ERROR_TYPES) is not. Shared by the incident and its follow-up reminders.
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

export const NOTIFY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};
