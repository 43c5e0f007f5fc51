// The CLI's incident commands over the HTTP API (src/api): the same methods as the break-glass path (incidents.ts),
// sent with an API key, so the key's role bounds what the CLI may do and the timeline records the key's name and role.
// Who acts is the key's name: the API takes no `by`. A refusal becomes one error naming the API's status, code and
// message; a URL that does not answer is named. Node's fetch, each request bounded in time and answer size.
import type { IncidentSummary, ListFilter } from '../client';
import type { TimelineEvent } from '../../domain/incident';
import { type UpdateName, type UpdateRequest, updatePath } from '../../domain/updates';
import type { IncidentStatusView, OpenIncidentResult } from '../../workflows/definitions';
import type { CliIncidents, OpenCommand } from './incidents';

/** How long one request may take; opening waits for the incident to start. */
export const API_TIMEOUT_MS = 30_000;
/** The largest answer read (a long timeline); past it the request fails rather than filling memory. */
export const API_ANSWER_LIMIT_BYTES = 64 * 1024 * 1024;

/** The API target is missing or malformed: a usage error (exit status 2). */
export class ApiUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUsageError';
  }
}

/** The API answered with an error: `403 forbidden: <its message>`. */
export class ApiRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'ApiRefusedError';
  }
}

/** The base URL to send to: http(s), no credentials, query or fragment (the key goes in a header). */
export function apiBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiUsageError(`--api-url: expected a URL like http://127.0.0.1:8080, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiUsageError(`--api-url: expected an http or https URL, got "${url.protocol}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ApiUsageError(
      '--api-url: expected the API address only, without credentials, query or fragment (give the key with --api-key or INCIDENT_API_KEY)',
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** The CLI's view of an update: the sender's fields are the API key's business. */
function updateBody(input: Record<string, unknown>): Record<string, unknown> {
  const { by: _by, apiRole: _apiRole, runbookRoles: _runbookRoles, ...body } = input;
  return body;
}

type SummaryJson = Omit<IncidentSummary, 'startTime' | 'closeTime'> & { startTime: string; closeTime?: string };

export class ApiIncidents implements CliIncidents {
  private readonly baseUrl: string;

  /** `url` and `key` as given (flags or environment); a missing key or a malformed URL is an ApiUsageError. */
  constructor(
    url: string,
    private readonly key: string | undefined,
    private readonly timeoutMs = API_TIMEOUT_MS,
  ) {
    this.baseUrl = apiBaseUrl(url);
    if (!key) {
      throw new ApiUsageError(
        `--api-url ${this.baseUrl} needs an API key: give --api-key <key> or set INCIDENT_API_KEY (or leave out --api-url and INCIDENT_API_URL to go straight to Temporal, the break-glass path)`,
      );
    }
  }

  async open(request: OpenCommand, runbookId: string): Promise<OpenIncidentResult> {
    return this.request<OpenIncidentResult>('POST', '/incidents', { ...request, runbook: runbookId });
  }

  async list(filter: ListFilter): Promise<IncidentSummary[]> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) if (value !== undefined) query.set(name, String(value));
    const { incidents } = await this.request<{ incidents: SummaryJson[] }>('GET', `/incidents?${query}`);
    return incidents.map(({ startTime, closeTime, ...rest }) => ({
      ...rest,
      startTime: new Date(startTime),
      ...(closeTime ? { closeTime: new Date(closeTime) } : {}),
    }));
  }

  async status(incidentId: string): Promise<IncidentStatusView> {
    const { timeline: _timeline, ...status } = await this.request<IncidentStatusView & { timeline?: unknown }>(
      'GET',
      `/incidents/${encodeURIComponent(incidentId)}`,
    );
    return status;
  }

  async timeline(incidentId: string): Promise<TimelineEvent[]> {
    const path = `/incidents/${encodeURIComponent(incidentId)}/timeline`;
    return (await this.request<{ timeline: TimelineEvent[] }>('GET', path)).timeline;
  }

  async send<N extends UpdateName>(incidentId: string, name: N, input: UpdateRequest<N>): Promise<IncidentStatusView> {
    const path = `/incidents/${encodeURIComponent(incidentId)}/${updatePath(name)}`;
    return this.request<IncidentStatusView>('POST', path, updateBody(input as Record<string, unknown>));
  }

  /** One request; resolves with the JSON of a 2xx answer, throws ApiRefusedError for an error answer. */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          accept: 'application/json',
          'user-agent': 'incident-engine-cli',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A redirect would carry the key elsewhere: name it instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await this.readAnswer(response, method, path);
    const json = parseJson(text);
    if (response.ok && json !== undefined && typeof json === 'object' && json !== null) return json as T;
    const answer = json as { error?: unknown; message?: unknown } | undefined;
    if (!response.ok && typeof answer?.error === 'string' && typeof answer.message === 'string') {
      throw new ApiRefusedError(response.status, answer.error, answer.message);
    }
    const where = `${method} ${this.baseUrl}${path.split('?')[0]}`;
    if (response.status >= 300 && response.status < 400) {
      throw new Error(
        `${where} answered ${response.status}, a redirect to ${response.headers.get('location') ?? '(none)'}; give the API's own URL with --api-url`,
      );
    }
    throw new Error(
      `${where} answered ${response.status} ${response.statusText} without the API's JSON; is ${this.baseUrl} the incident-engine API?`,
    );
  }

  /** The answer's text, at most API_ANSWER_LIMIT_BYTES. */
  private async readAnswer(response: Response, method: string, path: string): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? 0);
    const tooLarge = () =>
      new Error(
        `${method} ${this.baseUrl}${path.split('?')[0]} answered more than ${API_ANSWER_LIMIT_BYTES} bytes; not read`,
      );
    if (declared > API_ANSWER_LIMIT_BYTES) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body ?? []) {
        size += chunk.byteLength;
        // Throwing out of the loop cancels the rest of the answer.
        if (size > API_ANSWER_LIMIT_BYTES) throw tooLarge();
        chunks.push(chunk);
      }
    } catch (error) {
      if (size > API_ANSWER_LIMIT_BYTES) throw error;
      throw this.unreachable(error);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A request that got no (whole) answer: names the URL and why, never the key. */
  private unreachable(error: unknown): Error {
    const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') {
      return new Error(`the incident API at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000} s`);
    }
    const why = e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
    return new Error(`cannot reach the incident API at ${this.baseUrl} (${why})`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
