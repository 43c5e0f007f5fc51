// Local file quarantine (the Fiovana procedures, Containment: "Quarantine suspicious files"; Scenario 1, malicious file upload).
// Sandbox-safe: imports only zod.
import { z } from 'zod';
import { defineActions } from './spec';

const StepRef = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected the id of the step that quarantined the file');

export const QUARANTINE_ACTIONS = defineActions({
  'file.quarantine': {
    summary:
      'Move a file (under quarantine.roots) into <dataDir>/quarantine/<incident>/<step>/ with a record of its SHA-256, ' +
      'path, size, mode and mtime; undone by file.restore.',
    params: z
      .object({
        /** Absolute path of the file; must lie under one of the configured `quarantine.roots`. */
        path: z.string().min(1),
      })
      .strict(),
    compensate: (params, output) => {
      const stepId = (output as { stepId?: unknown } | undefined)?.stepId;
      return {
        action: 'file.restore',
        with: { path: params.path, ...(typeof stepId === 'string' ? { step: stepId } : {}) },
      };
    },
    destructive: true,
  },
  'file.restore': {
    summary: 'Put a quarantined file back where it was, after checking its SHA-256 against the quarantine record.',
    params: z
      .object({
        /** The file's original absolute path. */
        path: z.string().min(1),
        /** The step that quarantined it; needed only when the same path was quarantined by several steps. */
        step: StepRef.optional(),
      })
      .strict(),
    destructive: true,
  },
});
