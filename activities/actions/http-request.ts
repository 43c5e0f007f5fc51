// http.request: a plain HTTP call from a runbook to an allow-listed host, sent through the one HTTP client
// (activities/http/client.ts). Must never reach a host missing from `http.allowHosts`, or put header values or URL
// query strings into error messages or outputs (they end up in workflow history).
import type { EngineConfig } from '../../domain/config';
import type { ActionContext, Performers } from '../context';
import { HostNotAllowedError } from '../errors';
import { compactBody, parseHttpUrl, sendHttp, withAttempt } from '../http/client';

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** True when `url`'s host is on the list: `host` (any port), `host:port`, or `*.domain` (any subdomain, any port). */
export function hostAllowed(url: URL, allowHosts: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  return allowHosts.some((raw) => {
    const entry = raw.trim().toLowerCase();
    const withPort = /^(.*):(\d{1,5})$/.exec(entry);
    const host = withPort && !entry.endsWith(']') ? withPort[1]! : entry;
    const port = withPort && !entry.endsWith(']') ? withPort[2] : undefined;
    if (port !== undefined && port !== defaultPort(url)) return false;
    if (host.startsWith('*.')) return hostname.endsWith(host.slice(1)) && hostname.length > host.length - 1;
    return hostname === host;
  });
}

export function checkAllowedHost(label: string, rawUrl: string, config: Pick<EngineConfig, 'http'>): URL {
  const url = parseHttpUrl(label, rawUrl);
  const allowHosts = config.http?.allowHosts ?? [];
  if (!hostAllowed(url, allowHosts)) {
    throw new HostNotAllowedError(
      `${label}: host "${url.host}" is not in http.allowHosts (${allowHosts.length > 0 ? allowHosts.join(', ') : 'empty: every host is refused'}); add it to incident-engine.yaml to allow it`,
    );
  }
  return url;
}

export function httpRequestPerformers(ctx: ActionContext): Performers<'http.request'> {
  return {
    'http.request': async (p, input) => {
      const label = `http.request (step ${input.stepId})`;
      checkAllowedHost(label, p.url, ctx.config);
      const expectStatus =
        p.expectStatus === undefined ? undefined : Array.isArray(p.expectStatus) ? p.expectStatus : [p.expectStatus];
      const reply = await sendHttp({
        label,
        method: p.method,
        url: p.url,
        headers: p.headers,
        body: p.body,
        idempotencyKey: input.idempotencyKey,
        ...(p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs }),
        ...(expectStatus ? { expectStatus } : {}),
        credentialsAt: `the step's headers`,
      });
      return withAttempt({ status: reply.status, body: compactBody(reply.body) });
    },
  };
}
