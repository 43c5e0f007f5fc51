// The protected application's emergency API (the Fiovana procedures): safe mode, kill switch, quarantine, restore, integrity.
// One HTTP request per action to `emergencyApi.baseUrl` with the configured headers and `Idempotency-Key: <incident>/
// <step>` (compensations get their own key from the workflow), so a retried activity changes the application once.
// Outputs carry the previous state the application reports, which the compensations in
// domain/actions/emergency.ts read. Must never shell out or put header values into messages or outputs.
import { safeModeLevel } from '../../domain/actions/emergency';
import type { ActionInput } from '../../domain/actions';
import type { ActionContext, Performers } from '../context';
import { ActionNotConfiguredError, IntegrityViolationError, UnexpectedResponseError } from '../errors';
import { type HttpReply, compactBody, sendHttp, withAttempt } from '../http/client';
import { resolveHeaders } from '../http/headers';

type EmergencyAction =
  | 'app.safeMode'
  | 'app.killSwitch'
  | 'app.quarantine'
  | 'app.releaseQuarantine'
  | 'app.restoreBackup'
  | 'app.validateIntegrity';

/** Paths under `emergencyApi.baseUrl`. Release is our extension of the emergency API in the Fiovana procedures (see docs/ACTIONS.md). */
export const EMERGENCY_PATHS = {
  safeMode: (level: string) => `api/emergency/safe-mode/${encodeURIComponent(level.toLowerCase())}`,
  killSwitch: (enabled: boolean) => `api/emergency/kill-switch/${enabled ? 'enable' : 'disable'}`,
  quarantine: 'api/security/quarantine',
  releaseQuarantine: 'api/security/quarantine/release',
  restore: 'api/recovery/restore',
  validateIntegrity: 'api/integrity/validate',
} as const;

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

export function emergencyApiPerformers(ctx: ActionContext): Performers<EmergencyAction> {
  const call = async (
    action: EmergencyAction,
    input: ActionInput,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<HttpReply> => {
    const api = ctx.config.emergencyApi;
    if (!api) {
      throw new ActionNotConfiguredError(
        `${action} (step ${input.stepId}): expected emergencyApi { baseUrl, headers } in incident-engine.yaml, found none`,
      );
    }
    const base = api.baseUrl.endsWith('/') ? api.baseUrl : `${api.baseUrl}/`;
    return sendHttp({
      label: `${action} (step ${input.stepId})`,
      method,
      url: new URL(path, base).href,
      headers: resolveHeaders(api.headers, 'emergencyApi.headers'),
      ...(body === undefined ? {} : { body }),
      idempotencyKey: input.idempotencyKey,
      ...(api.timeoutMs === undefined ? {} : { timeoutMs: api.timeoutMs }),
      credentialsAt: 'emergencyApi.headers in incident-engine.yaml',
    });
  };

  return {
    'app.safeMode': async (p, input) => {
      const reply = await call('app.safeMode', input, 'POST', EMERGENCY_PATHS.safeMode(p.level));
      // The level before this call, as the application answered the first attempt (a retry gets the same answer).
      const previous = safeModeLevel(field(reply.body, 'previous')) ?? null;
      return withAttempt({ level: p.level, previous, status: reply.status });
    },

    'app.killSwitch': async (p, input) => {
      const reply = await call('app.killSwitch', input, 'POST', EMERGENCY_PATHS.killSwitch(p.enabled));
      const previous = field(reply.body, 'previous');
      return withAttempt({
        enabled: p.enabled,
        previous: typeof previous === 'boolean' ? previous : null,
        status: reply.status,
      });
    },

    'app.quarantine': async (p, input) => {
      const reply = await call('app.quarantine', input, 'POST', EMERGENCY_PATHS.quarantine, { path: p.path });
      return withAttempt({
        path: p.path,
        alreadyQuarantined: field(reply.body, 'alreadyQuarantined') === true,
        status: reply.status,
      });
    },

    'app.releaseQuarantine': async (p, input) => {
      const reply = await call('app.releaseQuarantine', input, 'POST', EMERGENCY_PATHS.releaseQuarantine, {
        path: p.path,
      });
      return withAttempt({ path: p.path, released: field(reply.body, 'released') !== false, status: reply.status });
    },

    'app.restoreBackup': async (p, input) => {
      const reply = await call('app.restoreBackup', input, 'POST', EMERGENCY_PATHS.restore, { backup_id: p.backupId });
      const restoreId = field(reply.body, 'restore_id') ?? field(reply.body, 'restoreId');
      return withAttempt({
        backupId: p.backupId,
        ...(typeof restoreId === 'string' ? { restoreId } : {}),
        status: reply.status,
        response: compactBody(reply.body),
      });
    },

    'app.validateIntegrity': async (_p, input) => {
      const label = `app.validateIntegrity (step ${input.stepId})`;
      const reply = await call('app.validateIntegrity', input, 'GET', EMERGENCY_PATHS.validateIntegrity);
      const valid = field(reply.body, 'valid');
      if (typeof valid !== 'boolean') {
        throw new UnexpectedResponseError(
          `${label}: expected a JSON body like {"valid": true, "violations": []}, received ${JSON.stringify(compactBody(reply.body, 200))}`,
        );
      }
      const reported = field(reply.body, 'violations');
      const violations = Array.isArray(reported) ? reported : [];
      if (!valid || violations.length > 0) {
        const shown = violations.slice(0, 5).map((v) => {
          const text = typeof v === 'string' ? v : JSON.stringify(v);
          return text.length > 200 ? `${text.slice(0, 200)}…` : text;
        });
        const more = violations.length > shown.length ? ` (and ${violations.length - shown.length} more)` : '';
        throw new IntegrityViolationError(
          `${label}: expected no integrity violations, received ${violations.length || 'unspecified'}${violations.length ? `: ${shown.join('; ')}${more}` : ''}`,
          violations,
        );
      }
      return withAttempt({ valid: true, violations: 0, status: reply.status });
    },
  };
}
