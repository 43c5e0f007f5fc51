// Every error the API answers is JSON `{error, message}`: a stable code and a sentence saying what was wrong. This
// module maps validation, parsing, Temporal and client errors to status codes. It must never send a stack trace or an
// internal error's text: a 500 says only that it failed and which request id to look for in the log.
import { isGrpcServiceError } from '@temporalio/client';
import { isSignalLimitError } from '../temporal/signal-limit';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IncidentNotFoundError, InvalidRequestError, UpdateForbiddenError, UpdateRefusedError } from '../client';
import { NoRunbookError } from '../runbooks/match';

export const ErrorBody = z
  .object({
    error: z
      .string()
      .describe('A stable code: invalid_request, malformed_json, unauthorized, forbidden, not_found, ...'),
    message: z.string().describe('What was wrong, in a sentence.'),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
}

/** One part per zod issue: `body.severity: expected a severity: P0, ...`. */
function validationMessage(context: string | undefined, issues: ValidationIssue[]): string {
  const where = context === 'querystring' ? 'query' : (context ?? 'request');
  return issues
    .map((issue) => {
      const at = [where, ...(issue.instancePath ?? '').split('/').filter(Boolean)].join('.');
      const message = issue.message ?? 'invalid';
      // Who acts is not the caller's to say: it is the name of the API key.
      const hint = /^Unrecognized keys?: .*"by"/.test(message)
        ? " (who acts is recorded from your API key's name)"
        : '';
      return `${at}: ${message}${hint}`;
    })
    .join('; ');
}

const GRPC_RESOURCE_EXHAUSTED = 8;
/** What a 503 (Temporal unavailable or busy) asks the caller to wait before trying again. */
export const RETRY_AFTER_SECONDS = 2;

function grpcError(error: unknown): { code: number; details?: string } | undefined {
  if (isGrpcServiceError(error)) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause && isGrpcServiceError(cause) ? cause : undefined;
}

function isTemporalUnavailable(error: unknown): boolean {
  const grpc = grpcError(error);
  if (grpc) return [4, 14].includes(grpc.code);
  return error instanceof Error && /ECONNREFUSED|UNAVAILABLE|Failed to connect|deadline exceeded/i.test(error.message);
}

/** Temporal answered, but refused the request as over one of its limits (for example in-flight updates). */
function temporalBusyReason(error: unknown): string | undefined {
  if (isSignalLimitError(error)) return 'the alert stream is starting its next run';
  const grpc = grpcError(error);
  if (grpc?.code !== GRPC_RESOURCE_EXHAUSTED) return undefined;
  return grpc.details || 'resource exhausted';
}

/** Maps any error to a status and body. */
export function toErrorReply(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (error instanceof ApiError)
    return { status: error.statusCode, body: { error: error.error, message: error.message } };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const validation = (error as FastifyError).validation as unknown as ValidationIssue[];
    return {
      status: 400,
      body: {
        error: 'invalid_request',
        message: validationMessage((error as FastifyError).validationContext, validation),
      },
    };
  }
  if (error instanceof IncidentNotFoundError)
    return { status: 404, body: { error: 'not_found', message: error.message } };
  if (error instanceof UpdateForbiddenError)
    return { status: 403, body: { error: 'forbidden', message: error.message } };
  if (error instanceof UpdateRefusedError) return { status: 409, body: { error: 'refused', message: error.message } };
  if (error instanceof InvalidRequestError)
    return { status: 400, body: { error: 'invalid_request', message: error.message } };
  // Only a misconfigured server leaves an alert without a runbook (the triage runbook removed, a default that does not
  // exist): 503, so the sender keeps the alert and retries once it is fixed.
  if (error instanceof NoRunbookError) return { status: 503, body: { error: 'no_runbook', message: error.message } };
  const fastifyError = error as Partial<FastifyError> & { error?: unknown };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: {
          error: 'body_too_large',
          message: `request body is larger than the limit of ${request.routeOptions.bodyLimit ?? '?'} bytes`,
        },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: {
          error: 'unsupported_media_type',
          message: `expected Content-Type: application/json, got ${JSON.stringify(request.headers['content-type'] ?? '(none)')}`,
        },
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: { error: 'malformed_json', message: 'expected a JSON body; the request body is empty' },
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'API_MALFORMED_JSON':
      return {
        status: 400,
        body: { error: 'malformed_json', message: fastifyError.message ?? 'request body is not valid JSON' },
      };
  }
  if (fastifyError.statusCode === 429) {
    return {
      status: 429,
      body: { error: 'rate_limited', message: fastifyError.message ?? 'too many requests' },
    };
  }
  const busy = temporalBusyReason(error);
  if (busy !== undefined) {
    return {
      status: 503,
      body: {
        error: 'temporal_busy',
        message: `Temporal is reachable but refused the request as over its limits (${busy}); the request changed nothing, try again`,
      },
    };
  }
  if (isTemporalUnavailable(error)) {
    // The server's own words when it answered (an aborted update is UNAVAILABLE too), so nobody looks for a network
    // fault that is not there.
    const details = grpcError(error)?.details;
    return {
      status: 503,
      body: {
        error: 'temporal_unavailable',
        message: `cannot reach Temporal right now${details ? ` (${details})` : ''}; the request changed nothing, try again`,
      },
    };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: 'bad_request', message: fastifyError.message ?? 'bad request' } };
  }
  return {
    status: 500,
    body: {
      error: 'internal',
      message: `the request failed inside the server; the log has the details under request id ${request.id}`,
    },
  };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorReply(error, request);
  if (status >= 500) request.log.error({ err: error, reqId: request.id }, 'request failed');
  // Temporal down or busy is passing: tell a detector when to send again rather than drop the alert.
  if (status === 503) void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
}

/** The error responses every route may give, for the OpenAPI document. */
export function errorResponses(...codes: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(codes.map((code) => [code, ErrorBody]));
}
