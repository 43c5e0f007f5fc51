// The codec server the Temporal Web UI and CLI call to show encrypted history in the clear (Temporal's codec server
// protocol: POST {endpoint}/encode and {endpoint}/decode with `{payloads: [{metadata, data}]}`, bytes as base64).
// Two doors: /codec/* for a caller with an operator or commander key (`temporal workflow show --codec-endpoint
// ... --codec-auth "Bearer <key>"`), and /codec/ui/<token>/* for the Web UI that `npm start` launches, which cannot
// send a key: the token is made at each start, held in memory and given only to that UI. CORS admits only the UI's
// origins.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { AesGcmCodec } from '../../codec/aes-gcm';
import { ApiError, errorResponses } from '../errors';

export interface CodecRouteOptions {
  codec: AesGcmCodec;
  /** The Web UI's door: its secret path segment and the origins its pages are served from. */
  ui?: { token: string; origins: string[] };
}

/** At most this many payloads per request: a history page's worth. */
export const CODEC_MAX_PAYLOADS = 1_000;

const Base64 = z.base64('expected base64');
const WirePayload = z.object({
  metadata: z.record(z.string().max(256), Base64).optional(),
  data: Base64.optional(),
});
const CodecBody = z.object({
  // The temporal CLI sends `{}` for a call without arguments.
  payloads: z.array(WirePayload).max(CODEC_MAX_PAYLOADS, `expected at most ${CODEC_MAX_PAYLOADS} payloads`).default([]),
});
type WirePayload = z.infer<typeof WirePayload>;

function fromWire(p: WirePayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toWire(p: Payload): WirePayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function codecRoutes(app: FastifyInstance, options: CodecRouteOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { codec, ui } = options;

  const run = async (op: 'encode' | 'decode', payloads: WirePayload[]) => {
    const input = payloads.map(fromWire);
    try {
      const output = op === 'encode' ? await codec.encode(input) : await codec.decode(input);
      return { payloads: output.map(toWire) };
    } catch (error) {
      throw new ApiError(422, 'codec_failed', (error as Error).message);
    }
  };

  for (const op of ['encode', 'decode'] as const) {
    r.post(
      `/codec/${op}`,
      {
        config: { permission: 'steer' },
        schema: {
          tags: ['health'],
          summary: `Temporal codec server: ${op} payloads (operator or commander key)`,
          body: CodecBody,
          response: { 200: CodecBody, ...errorResponses(401, 403, 422) },
        },
      },
      async (request) => run(op, request.body.payloads),
    );
  }

  if (!ui) return;
  const allowOrigin = (request: FastifyRequest, reply: FastifyReply): void => {
    const origin = request.headers.origin;
    if (origin && ui.origins.includes(origin)) {
      void reply.header('access-control-allow-origin', origin);
      void reply.header('access-control-allow-credentials', 'true');
      void reply.header('vary', 'Origin');
    }
  };
  const checkToken = (token: string): void => {
    if (!sameSecret(token, ui.token)) throw new ApiError(401, 'unauthorized', 'unknown codec endpoint token');
  };
  const Params = z.object({ token: z.string().max(128) });
  for (const op of ['encode', 'decode'] as const) {
    r.options(
      `/codec/ui/:token/${op}`,
      { config: { permission: 'public' }, schema: { hide: true, params: Params } },
      async (request, reply) => {
        checkToken(request.params.token);
        allowOrigin(request, reply);
        void reply.header('access-control-allow-methods', 'POST, OPTIONS');
        void reply.header('access-control-allow-headers', 'Content-Type, X-Namespace, Authorization');
        void reply.header('access-control-max-age', '600');
        return reply.code(204).send();
      },
    );
    r.post(
      `/codec/ui/:token/${op}`,
      { config: { permission: 'public' }, schema: { hide: true, params: Params, body: CodecBody } },
      async (request, reply) => {
        checkToken(request.params.token);
        allowOrigin(request, reply);
        return run(op, request.body.payloads);
      },
    );
  }
}
