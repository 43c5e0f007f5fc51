// The protected application's emergency API (the Fiovana procedures, Containment and Recovery): safe mode, kill switch,
// quarantine, restore, integrity check. Sandbox-safe: imports only zod. The compensations read the previous state the
// application reported (its idempotent answer to the first attempt), so an undo restores what was there before.
import { z } from 'zod';
import { defineActions } from './spec';

/** The Fiovana procedures' SafeModeLevel, least to most restrictive. */
export const SAFE_MODE_LEVELS = ['Disabled', 'Restricted', 'Paranoid', 'Emergency', 'Lockdown'] as const;
export type SafeModeLevel = (typeof SAFE_MODE_LEVELS)[number];

/** The level's canonical name for any capitalisation ("emergency", "EMERGENCY"), or undefined. */
export function safeModeLevel(value: unknown): SafeModeLevel | undefined {
  if (typeof value !== 'string') return undefined;
  return SAFE_MODE_LEVELS.find((level) => level.toLowerCase() === value.trim().toLowerCase());
}

const Level = z
  .string({ error: `expected a safe-mode level: one of ${SAFE_MODE_LEVELS.join(', ')}` })
  .refine((value) => safeModeLevel(value) !== undefined, {
    error: (issue) =>
      `expected a safe-mode level: one of ${SAFE_MODE_LEVELS.join(', ')}, received ${JSON.stringify(issue.input)}`,
  })
  .transform((value) => safeModeLevel(value) as SafeModeLevel);

const QuarantinePath = z
  .string({ error: 'expected the path of the file to quarantine, like "/suspicious/file.exe"' })
  .min(1, 'expected the path of the file to quarantine, like "/suspicious/file.exe"')
  .refine((value) => !value.includes('\0'), 'expected a path without NUL characters');

/** A field of an activity's output, when the output is an object (outputs cross Temporal as plain JSON). */
function outputField(output: unknown, field: string): unknown {
  return output !== null && typeof output === 'object' ? (output as Record<string, unknown>)[field] : undefined;
}

/** Undone by `action` on the same path, unless the output's `field` is `unchanged` (the step changed nothing). */
function undoOnPath(action: string, field: string, unchanged: boolean) {
  return (params: { path: string }, output: unknown) =>
    outputField(output, field) === unchanged ? undefined : { action, with: { path: params.path } };
}

export const EMERGENCY_ACTIONS = defineActions({
  'app.safeMode': {
    summary:
      'Set the application safe-mode level (POST /api/emergency/safe-mode/:level); undo restores the previous level.',
    params: z.object({ level: Level }).strict(),
    compensate: (params, output) => {
      const previous = safeModeLevel(outputField(output, 'previous'));
      if (!previous || previous === params.level) return undefined;
      return { action: 'app.safeMode', with: { level: previous } };
    },
    destructive: true,
  },
  'app.killSwitch': {
    summary: 'Enable or disable the emergency kill switch that stops all file operations; undo sets it back.',
    params: z.object({ enabled: z.boolean({ error: 'expected enabled: true or false' }) }).strict(),
    compensate: (params, output) => {
      // The application reports the state before this call; when nothing changed there is nothing to undo.
      if (outputField(output, 'previous') === params.enabled) return undefined;
      return { action: 'app.killSwitch', with: { enabled: !params.enabled } };
    },
    destructive: true,
  },
  'app.quarantine': {
    summary: 'Quarantine a suspicious file (POST /api/security/quarantine); undo releases it.',
    params: z.object({ path: QuarantinePath }).strict(),
    // Already quarantined before this step: releasing it would undo someone else's containment.
    compensate: undoOnPath('app.releaseQuarantine', 'alreadyQuarantined', true),
    destructive: true,
  },
  'app.releaseQuarantine': {
    summary:
      'Release a quarantined file (POST /api/security/quarantine/release; our extension of the emergency API in the Fiovana procedures).',
    params: z.object({ path: QuarantinePath }).strict(),
    compensate: undoOnPath('app.quarantine', 'released', false),
    destructive: true,
  },
  'app.restoreBackup': {
    summary: 'Restore the application from a backup (POST /api/recovery/restore); cannot be undone automatically.',
    params: z
      .object({
        backupId: z
          .string({ error: 'expected a backup id, like "latest"' })
          .min(1, 'expected a backup id, like "latest"')
          .default('latest'),
      })
      .strict(),
    destructive: true,
  },
  'app.validateIntegrity': {
    summary: 'Check system integrity (GET /api/integrity/validate); the step fails when violations are reported.',
    params: z.object({}).strict(),
  },
});
