import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { isSignalLimitError } from '../../src/temporal/signal-limit';

describe('isSignalLimitError', () => {
  it("recognises Temporal's signal-limit refusal, also as the cause of another error", () => {
    const refusal = new ServiceError(
      'Failed to signalWithStart Workflow: 3 INVALID_ARGUMENT: exceeded workflow execution limit for signal events',
    );
    expect(isSignalLimitError(refusal)).toBe(true);
    expect(isSignalLimitError(new Error('could not deliver', { cause: refusal }))).toBe(true);
  });

  it('leaves every other error alone', () => {
    expect(isSignalLimitError(new ServiceError('Failed to signalWithStart Workflow: 14 UNAVAILABLE'))).toBe(false);
    expect(isSignalLimitError('exceeded workflow execution limit for signal events')).toBe(false);
    expect(isSignalLimitError(undefined)).toBe(false);
  });
});
