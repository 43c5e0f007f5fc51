// How the API words Temporal's refusals: over a limit (RESOURCE_EXHAUSTED) is "busy", not "cannot reach"; an
// answer the server gave is quoted. The gRPC errors are built the way the client library surfaces them.
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { toErrorReply } from '../../src/api/errors';

const request = { id: 'req-1', routeOptions: {}, headers: {} } as unknown as FastifyRequest;

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('toErrorReply for Temporal errors', () => {
  it('answers a refused update as temporal_busy, with the server reason', () => {
    const refused = grpcError(8, 'limit on number of concurrent in-flight updates has been reached (10)');
    const reply = toErrorReply(new Error('update failed', { cause: refused }), request);
    expect(reply.status).toBe(503);
    expect(reply.body.error).toBe('temporal_busy');
    expect(reply.body.message).toMatch(
      /reachable but refused .*in-flight updates has been reached \(10\).*changed nothing/,
    );
  });

  it('quotes an aborted update; a connection failure stays "cannot reach Temporal"', () => {
    const aborted = toErrorReply(grpcError(14, 'workflow update was aborted'), request);
    expect(aborted).toMatchObject({ status: 503, body: { error: 'temporal_unavailable' } });
    expect(aborted.body.message).toBe(
      'cannot reach Temporal right now (workflow update was aborted); the request changed nothing, try again',
    );
    const refused = toErrorReply(new Error('connect ECONNREFUSED 127.0.0.1:7233'), request);
    expect(refused.body.message).toBe('cannot reach Temporal right now; the request changed nothing, try again');
  });
});
