// Generic JSON webhook delivery: one POST through the one HTTP client (activities/http/client.ts), carrying the
// Idempotency-Key; a 2xx is done, the rest is classified there. Must never retry by itself (Temporal owns retries),
// follow redirects, or put credentials or query strings from the URL into error messages.
import { InvalidActionInputError } from '../errors';
import { sendHttp } from '../http/client';

export interface WebhookRequest {
  url: string;
  /** Serialised with JSON.stringify. */
  body: unknown;
  /** Stable across retries of the same effect, e.g. `${incidentId}:${stepId}`. */
  idempotencyKey: string;
  /** Extra headers; Content-Type, Idempotency-Key and User-Agent are always set by the client. */
  headers?: Record<string, string>;
  /** Whole exchange, headers and body. Default 10 000 ms. */
  timeoutMs?: number;
  /** The activity attempt, echoed in the result for the step record. */
  attempt?: number;
}

export interface WebhookResult {
  status: number;
  attempt?: number;
}

/** POST `body` as JSON. Resolves on 2xx; throws HttpUnavailableError (retryable) or a NonRetryableActionError. */
export async function postWebhook(request: WebhookRequest): Promise<WebhookResult> {
  if (request.body === undefined) {
    throw new InvalidActionInputError('Webhook: body: expected a JSON-serialisable value, received undefined');
  }
  const { status } = await sendHttp({
    label: 'Webhook',
    method: 'POST',
    url: request.url,
    body: request.body,
    idempotencyKey: request.idempotencyKey,
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    readBody: false,
  });
  return request.attempt === undefined ? { status } : { status, attempt: request.attempt };
}
