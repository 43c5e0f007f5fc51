// Builds and starts the HTTP API: Fastify with zod schemas (validation, serialization and the OpenAPI document come
// from the same schemas), authentication and per-key rate limits, JSON-only bodies under a size limit, Swagger UI at
// /docs from local assets, /openapi.json, health and metrics, incident routes, operator updates and detector intake.
// It must never answer an error other than `{error, message}`, never bind beyond the configured host, and never
// talk to Temporal except through IncidentClient.
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { IncidentClient } from '../client';
import type { ApiConfig } from '../config';
import type { RunbookPlan } from '../../domain/runbook';
import { registerAuthentication, registerAuthorization } from './auth';
import type { ApiContext } from './context';
import { ApiError, errorHandler, notFoundHandler } from './errors';
import { REQUEST_TIMEOUT_MS, handleClientError } from './client-errors';
import { AlertIntake } from './intake/dispatch';
import type { ApiKeyStore } from '../api-keys';
import { registerInputLimits } from './limits';
import { ApiMetrics } from './metrics';
import { type CodecRouteOptions, codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { incidentRoutes } from './routes/incidents';
import { intakeRoutes } from './routes/intake';
import { followUpRoutes } from './routes/follow-ups';
import { reportRoutes } from './routes/reports';
import { registerIncidentMetrics } from '../reports/prometheus';
import { updateRoutes } from './routes/updates';
import { consoleRoutes } from './routes/console';
import { consoleDrillRoutes } from './routes/console-drills';
import { SessionStore } from './session';
import { FileNonceStore, NonceCache } from './signatures';

export interface ApiServerOptions {
  config: ApiConfig;
  incidents: IncidentClient;
  /** The runbooks incidents are opened with (a function, so a caller can reload them). */
  runbooks: Map<string, RunbookPlan> | (() => Map<string, RunbookPlan>);
  keys: ApiKeyStore;
  /** host:port of Temporal, for readiness messages. */
  temporalAddress: string;
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
  /** Console sign-in sessions (one store per process by default). */
  sessions?: SessionStore;
  version?: string;
  /** The engine's data directory, where reviews and the closed-incident summaries are (reports need it). */
  dataDir?: string;
  /** Where signed requests' nonces are kept, shared by every API process on the data directory; memory otherwise. */
  nonceDir?: string;
  /** Serve the codec endpoints (/codec/encode, /codec/decode) for the Temporal Web UI and CLI. */
  codec?: CodecRouteOptions;
}

export interface ApiServer {
  app: FastifyInstance;
  metrics: ApiMetrics;
  /** Every route the server serves (method and URL pattern), HEAD and the docs' own assets left out. */
  routes: { method: string; url: string }[];
}

const JSON_BODY = /^application\/(?:[\w.+-]+\+)?json$/;

export async function buildApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const runbooks =
    typeof options.runbooks === 'function' ? options.runbooks : () => options.runbooks as Map<string, RunbookPlan>;
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    logger: options.logger ?? { level: 'warn' },
    trustProxy: config.trustProxy,
    // Errors must stay ours: no `{statusCode, code, error, message}` from Fastify's defaults.
    return503OnClosing: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
    clientErrorHandler: handleClientError,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    return payload;
  });

  // JSON bodies only, kept raw as well: signatures are computed over the exact bytes received.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_BODY, { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    // Bodies are read as sent: a compressed one would only fail as JSON, naming bytes instead of the encoding.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(
        new ApiError(
          415,
          'unsupported_media_type',
          `Content-Encoding ${JSON.stringify(encoding)} is not taken: send the JSON body uncompressed`,
        ),
        undefined,
      );
      return;
    }
    if (text.trim() === '') {
      done(new ApiError(400, 'malformed_json', 'expected a JSON body; the request body is empty'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(
        new ApiError(400, 'malformed_json', `request body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });

  const metrics = new ApiMetrics();
  metrics.instrument(app);
  registerIncidentMetrics(metrics.registry, {
    incidents: options.incidents,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });

  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    // Swagger UI's pages and assets are public; everything else needs a key unless it says otherwise.
    if (route.url === '/docs' || route.url.startsWith('/docs/')) {
      route.config = { ...route.config, permission: 'public' };
      return;
    }
    // The console's page and assets (public, like the docs); its session and data routes are API routes.
    if (route.url === '/' || route.url.startsWith('/console/assets/')) return;
    // The Web UI's codec door (a secret path, CORS preflight) is not part of the documented API.
    if (route.url.startsWith('/codec/ui/')) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });

  const sessions = options.sessions ?? new SessionStore({ now });
  const authOptions = {
    keys: options.keys,
    sessions,
    nonces: options.nonceDir ? new FileNonceStore(options.nonceDir) : new NonceCache(),
    toleranceSeconds: config.signatureToleranceSeconds,
    now,
  };
  registerAuthentication(app, authOptions);
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    max: (request) => (request.principal ? config.rateLimit[request.principal.role] : config.rateLimit.anonymous),
    keyGenerator: (request) => (request.principal ? `key:${request.principal.id}` : `ip:${request.ip}`),
    errorResponseBuilder: (request, context) => {
      const who = request.principal ? `key "${request.principal.name}"` : `address ${request.ip} (no valid key)`;
      return new ApiError(
        429,
        'rate_limited',
        `${who} sent more than ${context.max} requests per minute; retry in ${context.after}`,
      );
    },
  });
  registerAuthorization(app, authOptions);
  registerInputLimits(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'incident-engine API',
        description:
          'Open and steer incidents (durable Temporal workflows) and take alerts from detectors. Every error is ' +
          '`{error, message}`. Keys: `Authorization: Bearer <key>` or `X-API-Key: <key>`; roles viewer, detector, ' +
          'operator, commander. See docs/API.md.',
        version: options.version ?? '0.1.0',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: iek_<id>_<secret>' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'incidents', description: 'Open, list and read incidents' },
        { name: 'updates', description: 'Operator actions on an incident' },
        { name: 'intake', description: 'Alerts from detectors' },
        { name: 'reports', description: 'Post-incident reviews and periodic reports' },
        { name: 'health', description: 'Liveness, readiness and metrics' },
        { name: 'console', description: 'The operator console at /: sign-in sessions and what its pages read' },
        { name: 'drills', description: 'Drill scenarios run as tabletops on their own test server, and their reports' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () => app.swagger());

  const ctx: ApiContext = {
    incidents: options.incidents,
    runbooks,
    intake: new AlertIntake({
      incidents: options.incidents,
      runbooks,
      metrics,
      ...(config.defaultRunbook ? { defaultRunbook: config.defaultRunbook } : {}),
    }),
    metrics,
    config,
    temporalAddress: options.temporalAddress,
    now,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  };
  healthRoutes(app, ctx);
  incidentRoutes(app, ctx);
  updateRoutes(app, ctx);
  intakeRoutes(app, ctx);
  consoleRoutes(app, ctx, { sessions, keys: options.keys });
  consoleDrillRoutes(app);
  reportRoutes(app, ctx);
  followUpRoutes(app, ctx);
  if (options.codec) codecRoutes(app, options.codec);
  await app.ready();
  return { app, metrics, routes };
}

export interface RunningApi extends ApiServer {
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/** Builds the server and listens on the configured host and port (port 0: any free port). */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApi> {
  const server = await buildApiServer(options);
  await server.app.listen({ host: options.config.host, port: options.config.port });
  const address = server.app.server.address();
  if (address === null || typeof address === 'string')
    throw new Error(`expected a TCP address, got ${String(address)}`);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { ...server, url: `http://${host}:${address.port}`, close: () => server.app.close() };
}
