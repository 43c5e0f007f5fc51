// Evidence actions (the Fiovana procedures, Evidence Preservation). Sandbox-safe: imports only zod.
import { z } from 'zod';
import { defineActions } from './spec';

export const EVIDENCE_ACTIONS = defineActions({
  'evidence.snapshot': {
    safeOutput: true,
    summary: 'Archive paths (logs, backups, config) into a tar.gz with a SHA-256 manifest.',
    params: z
      .object({
        paths: z.array(z.string().min(1)).min(1),
        label: z.string().min(1).optional(),
      })
      .strict(),
  },
});
