// The operator console: the page at `/` (a static shell whose script renders everything as text; strict
// Content-Security-Policy, no inline script), its hashed assets, sign-in and sign-out (a session cookie, see
// session.ts), and the one read the incident page needs beyond the plain API: the incident with each timeline event
// worded as the CLI words it, the phase windows and escalation levels of its runbook, and what the next timed
// escalation will be. Everything else the console does goes through the ordinary API routes with their roles.
import type { FastifyInstance, FastifyReply } from 'fastify';
import pLimit from 'p-limit';
import { z } from 'zod';
import { ACTIONS, isActionName } from '../../../domain/actions/index';
import { runEscalations } from '../../../domain/escalation';
import { DEFAULT_ESCALATION_POLICY } from '../../../domain/escalation-policy';
import { describeEvent } from '../../format';
import { consoleBundle } from '../../console/bundle';
import { sameOrigin } from '../auth';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { statusAndTimeline } from '../step-outputs';
import { type ApiKeyStore, type ApiPrincipal, PERMISSIONS, roleMay, rolesWith } from '../../api-keys';
import { IncidentIdParams, IncidentSummaryView, ListQuery } from '../schemas';
import { type SessionStore, sessionCookie } from '../session';
import { declareRoutes } from './declare';

/** No inline script or style, nothing from elsewhere, no framing, forms post only here. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

function page(script: string, style: string): string {
  // The sign-in form is here too, so the page works as a page before the script runs; the script replaces it.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${style}">
<script type="module" src="${script}"></script>
</head>
<body>
<div id="app">
<main class="sign-in">
<h1>Incident console</h1>
<form id="sign-in-form" class="card" method="post" action="/console/session">
<label for="sign-in-key">API key</label>
<input id="sign-in-key" name="key" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
<noscript><p>The console needs JavaScript. The CLI (npx incident-engine) and the HTTP API (/docs) work without it.</p></noscript>
</form>
</main>
</div>
</body>
</html>
`;
}

const SessionView = z
  .object({
    name: z.string().describe("The key's name: what incidents record as `by`"),
    role: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    csrf: z.string().optional().describe('Send it as X-CSRF-Token on every state change made with the cookie'),
    rolesWith: z.record(z.string(), z.array(z.string())).describe('Which key roles hold each permission'),
  })
  .meta({ id: 'ConsoleSession' });

function sessionView(principal: ApiPrincipal, csrf?: string): z.infer<typeof SessionView> {
  return {
    name: principal.name,
    role: principal.role,
    permissions: PERMISSIONS.filter((p) => roleMay(principal.role, p)),
    ...(csrf ? { csrf } : {}),
    rolesWith: Object.fromEntries(PERMISSIONS.map((p) => [p, rolesWith(p)])),
  };
}

const ConsoleIncident = z
  .looseObject({
    incidentId: z.string(),
    timeline: z.array(z.looseObject({ at: z.number(), type: z.string(), text: z.string() })),
    policy: z.object({
      pinned: z.boolean().describe('false when the runbook changed since the incident opened (windows may differ)'),
      phaseWindows: z.record(z.string(), z.object({ fromMs: z.number(), toMs: z.number() })),
      levels: z.record(z.string(), z.object({ name: z.string(), respondWithinMs: z.number() })),
    }),
    nextEscalation: z
      .object({ at: z.number(), trigger: z.string(), toLevel: z.number(), reason: z.string() })
      .optional(),
    destructiveSteps: z.array(z.string()).describe('Waiting approvals whose action is destructive (commander keys)'),
  })
  .meta({ id: 'ConsoleIncident' });

/** Most titles remembered, and most incidents asked for theirs in one list request (the rest on the next). */
const TITLES_KEPT = 10_000;
const TITLES_PER_LIST = 50;

/**
 * Incident titles for the list. Visibility has no title, so each incident is asked once (its status query, a few at a
 * time) and its title kept: a title never changes after opening.
 */
class TitleCache {
  private readonly titles = new Map<string, string>();
  private readonly limit = pLimit(8);

  constructor(private readonly ctx: ApiContext) {}

  async of(ids: string[]): Promise<Map<string, string>> {
    const missing = ids.filter((id) => !this.titles.has(id)).slice(0, TITLES_PER_LIST);
    await Promise.all(
      missing.map((id) =>
        this.limit(async () => {
          const status = await this.ctx.incidents.status(id).catch(() => undefined);
          if (status === undefined) return;
          while (this.titles.size >= TITLES_KEPT) this.titles.delete(this.titles.keys().next().value as string);
          this.titles.set(id, status.title);
        }),
      ),
    );
    return this.titles;
  }
}

export function consoleRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  { sessions, keys }: { sessions: SessionStore; keys: ApiKeyStore },
): void {
  const route = declareRoutes(app, 'console');
  const titles = new TitleCache(ctx);
  const hidden = { config: { permission: 'public' as const }, schema: { hide: true } };

  app.get('/', hidden, async (_request, reply) => {
    const bundle = await consoleBundle();
    return secureHeaders(reply)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(page(bundle.script.path, bundle.style.path));
  });

  app.get('/console/assets/:file', hidden, async (request, reply) => {
    const bundle = await consoleBundle();
    const file = (request.params as { file: string }).file;
    const found = [bundle.script, bundle.style].find((a) => a.path === `/console/assets/${file}`);
    if (!found) throw new ApiError(404, 'not_found', `no console asset ${file}; reload the page`);
    return secureHeaders(reply)
      .type(found.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(found.body);
  });

  route.post(
    '/console/session',
    {
      permission: 'public',
      summary: 'Sign the console in with an API key: sets an HttpOnly session cookie, answers the CSRF token',
      body: z.object({ key: z.string().min(1, 'expected an API key').max(200) }).strict(),
      answers: { 200: SessionView },
      errors: [400, 401, 403, 415, 429],
    },
    async (request, reply) => {
      if (!sameOrigin(request)) throw new ApiError(403, 'csrf', 'sign in from the console page of this server');
      const principal = keys.authenticate(request.body.key);
      if (!principal)
        throw new ApiError(401, 'unauthorized', 'the API key is not valid (unknown, revoked or mistyped)');
      const session = sessions.create(request.body.key.trim());
      void reply.header('set-cookie', sessionCookie(session.id, request.protocol === 'https'));
      return sessionView(principal, session.csrf);
    },
  );

  route.get(
    '/console/session',
    {
      summary: "Who the console (or a key) is signed in as, what its role may do, and the session's CSRF token",
      answers: { 200: SessionView },
      errors: [401, 429],
    },
    async (request) => sessionView(request.principal!, request.consoleSession?.csrf),
  );

  route.post(
    '/console/sign-out',
    {
      summary: 'End the console session and clear its cookie',
      answers: { 200: z.object({ signedOut: z.boolean() }) },
      errors: [401, 403, 429],
    },
    async (request, reply) => {
      if (request.consoleSession) sessions.delete(request.consoleSession.id);
      void reply.header('set-cookie', sessionCookie('', request.protocol === 'https', 0));
      return { signedOut: request.consoleSession !== undefined };
    },
  );

  route.get(
    '/console/incidents',
    {
      permission: 'read',
      summary: "GET /incidents with each incident's title, for the console's list",
      querystring: ListQuery,
      answers: { 200: z.object({ incidents: z.array(IncidentSummaryView.extend({ title: z.string().optional() })) }) },
      errors: [400, 401, 403, 429, 503],
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      const incidents = await ctx.incidents.list({ ...filter, limit });
      const known = await titles.of(incidents.map((i) => i.incidentId));
      return {
        incidents: incidents.map(({ startTime, closeTime, ...rest }) => ({
          ...rest,
          ...(known.has(rest.incidentId) ? { title: known.get(rest.incidentId) } : {}),
          startTime: startTime.toISOString(),
          ...(closeTime ? { closeTime: closeTime.toISOString() } : {}),
        })),
      };
    },
  );

  route.get(
    '/console/runbooks',
    {
      permission: 'read',
      summary: 'The runbooks incidents can be opened with',
      answers: {
        200: z.object({
          runbooks: z.array(
            z.object({ id: z.string(), title: z.string(), category: z.string(), eventTypes: z.array(z.string()) }),
          ),
        }),
      },
      errors: [401, 403, 429],
    },
    async () => ({
      runbooks: [...ctx.runbooks().values()]
        .map(({ id, title, category, eventTypes }) => ({ id, title, category, eventTypes }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    }),
  );

  route.get(
    '/console/incidents/:id',
    {
      permission: 'read',
      summary: "An incident as the console's incident page shows it",
      description:
        'GET /incidents/{id} plus each timeline event in words, the phase windows and escalation levels of its ' +
        'runbook, the trigger and level of the next timed escalation, and which waiting approvals need a commander.',
      params: IncidentIdParams,
      answers: { 200: ConsoleIncident },
      errors: [400, 401, 403, 404, 429, 503],
    },
    async (request) => {
      const { status, timeline } = await statusAndTimeline(ctx.incidents, request.params.id);
      const plan = ctx.runbooks().get(status.runbookId);
      const policy = plan?.escalation ?? DEFAULT_ESCALATION_POLICY;
      let nextEscalation: z.infer<typeof ConsoleIncident>['nextEscalation'];
      if (status.nextEscalationAt !== undefined) {
        const due = runEscalations(status, policy, status.nextEscalationAt).fired[0];
        if (due) {
          nextEscalation = {
            at: status.nextEscalationAt,
            trigger: due.trigger,
            toLevel: due.toLevel,
            reason: due.reason,
          };
        }
      }
      return {
        ...status,
        timeline: timeline.map((event) => ({ ...event, text: describeEvent(event) })),
        policy: {
          pinned: plan?.contentHash === status.runbookHash,
          phaseWindows: policy.phaseWindows,
          levels: Object.fromEntries(
            Object.entries(policy.levels).map(([level, l]) => [
              level,
              { name: l.name, respondWithinMs: l.respondWithinMs },
            ]),
          ),
        },
        ...(nextEscalation ? { nextEscalation } : {}),
        destructiveSteps: status.waitingSteps
          .filter((w) => w.kind === 'approval' && isActionName(w.action) && ACTIONS[w.action].destructive === true)
          .map((w) => w.stepId),
      };
    },
  );
}
