// Notification actions: messages to an audience through its configured channel. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { defineActions } from './spec';
import { Severity } from '../severity';

/** A severity, or one `${...}` placeholder the step runner fills in (e.g. `${incident.severity}`). */
const SeverityOrPlaceholder = z.union([Severity, z.string().regex(/^\$\{[^}]+\}$/, 'expected P0-P3 or a placeholder')]);

export const NOTIFY_AUDIENCES = ['internal', 'external', 'executive', 'L1', 'L2', 'L3'] as const;

export const NOTIFY_ACTIONS = defineActions({
  'notify.send': {
    summary:
      'Post a message to the channel that serves an audience (webhook, file, Slack or e-mail), or to a named channel.',
    params: z
      .object({
        channel: z.string().min(1).optional(),
        audience: z.enum(NOTIFY_AUDIENCES).default('internal'),
        message: z.string().min(1),
        /** Picks the Slack/e-mail template for the severity (the Fiovana procedures' plan); usually `${incident.severity}`. */
        severity: SeverityOrPlaceholder.optional(),
        /** The incident title for templates' headline; usually `${incident.title}`. */
        title: z.string().min(1).optional(),
      })
      .strict(),
  },
});
