// Step outputs in API views: kept for actions that declare them safe (evidence hashes, archive paths), left out for
// the rest (a connector's or an HTTP request's reply).
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../domain/actions/index';
import { withSafeStepOutputs } from '../../src/api/step-outputs';

describe('withSafeStepOutputs', () => {
  it('keeps evidence outputs and drops the others', () => {
    expect(ACTIONS['evidence.snapshot'].safeOutput).toBe(true);
    const view = {
      incidentId: 'INC-2026-001',
      steps: [
        { stepId: 'snap', action: 'evidence.snapshot', output: { archive: '/data/a.tar.gz', sha256: 'ab' } },
        { stepId: 'call', action: 'http.request', output: { status: 200, body: 'token=secret' } },
        { stepId: 'odd', action: 'no.such.action', output: 'x' },
        { stepId: 'none', action: 'notify.send' },
      ],
    };
    const shown = withSafeStepOutputs(view);
    expect(shown.steps.map((s) => 'output' in s)).toEqual([true, false, false, false]);
    expect(shown.steps[0]).toEqual(view.steps[0]);
    expect(JSON.stringify(shown)).not.toContain('secret');
    expect(view.steps[1]!.output).toBeDefined();
  });

  it('passes a view without steps through', () => {
    const view: { incidentId: string; steps?: { action: string }[] } = { incidentId: 'INC-2026-001' };
    expect(withSafeStepOutputs(view)).toBe(view);
  });
});
