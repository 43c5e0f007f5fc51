// A plain HTTP request from a runbook, for systems without a dedicated action. Only hosts listed in
// incident-engine.yaml `http.allowHosts` are reachable; the activity refuses the rest. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { defineActions } from './spec';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const Status = z
  .number({ error: 'expected an HTTP status code between 100 and 599' })
  .int('expected an HTTP status code between 100 and 599')
  .min(100, 'expected an HTTP status code between 100 and 599')
  .max(599, 'expected an HTTP status code between 100 and 599');

export const HTTP_ACTIONS = defineActions({
  'http.request': {
    summary:
      'Send an HTTP request to an allow-listed host (config http.allowHosts); the step fails on an unexpected status.',
    params: z
      .object({
        method: z
          .string()
          .transform((value) => value.toUpperCase())
          .pipe(z.enum(HTTP_METHODS, { error: `expected one of ${HTTP_METHODS.join(', ')}` }))
          .default('GET'),
        url: z.url({
          protocol: /^https?$/,
          error: 'expected an absolute http(s) URL, like https://status.example.com/api/ping',
        }),
        /** Plain values only: secrets belong in a connector's `fromEnv` headers, not in a runbook. */
        headers: z.record(z.string(), z.string({ error: 'expected a header value as a string' })).default({}),
        /** Sent as JSON. */
        body: z.unknown().optional(),
        /** The statuses that count as success; any 2xx when absent. */
        expectStatus: z.union([Status, z.array(Status).min(1)]).optional(),
        timeoutMs: z.number().int().positive().max(600_000).optional(),
      })
      .strict(),
    destructive: true,
  },
});
