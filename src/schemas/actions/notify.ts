// Notification actions: messages to an audience through its configured channel. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { defineActions } from './spec';

export const NOTIFY_AUDIENCES = ['internal', 'external', 'executive', 'L1', 'L2', 'L3'] as const;

export const NOTIFY_ACTIONS = defineActions({
  'notify.send': {
    summary: 'Post a message to the channel that serves an audience (webhook or file), or to a named channel.',
    params: z
      .object({
        channel: z.string().min(1).optional(),
        audience: z.enum(NOTIFY_AUDIENCES).default('internal'),
        message: z.string().min(1),
      })
      .strict(),
  },
});
