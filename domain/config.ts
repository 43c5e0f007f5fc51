// The engine configuration's shape: zod schemas for `incident-engine.yaml` (channels, containment connectors, the
// emergency API, the http.request allow-list, message templates, the HTTP API) and the resolved EngineConfig the
// worker, activities and clients share. Pure: loading and path resolution live in src/config.ts.
import { z } from 'zod';
import { TemplateConfig } from './message-templates';
import { type ReportsConfig, ReportsConfigFile } from './reports-config';
import { type TemplateError, templatePaths } from './template';

const WebhookChannel = z
  .object({
    type: z.literal('webhook'),
    url: z.url({ error: 'expected an http(s) URL' }),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
const FileChannel = z.object({ type: z.literal('file'), path: z.string().min(1) }).strict();
/** A secret read from the environment when a message is sent, so it stays out of YAML and out of the worker config. */
const FromEnv = z
  .object({
    fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name, like SMTP_PASSWORD'),
  })
  .strict();
/** Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat...): JSON `{text, blocks}`. */
const SlackChannel = z
  .object({
    type: z.literal('slack'),
    /** The webhook URL carries its token in the path, so it may come from the environment. */
    url: z.union([z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }), FromEnv]),
    headers: z.record(z.string(), z.string()).default({}),
    /** Send Block Kit blocks (header, text, context) besides the plain `text`. */
    blocks: z.boolean().default(true),
    timeoutMs: z.number().int().positive().max(600_000).optional(),
    /** Keys already delivered, so a retried activity does not post twice. Default `<dataDir>/notify/<name>.sent.jsonl`. */
    sentLog: z.string().min(1).optional(),
  })
  .strict();
const Mailbox = z
  .string()
  .trim()
  .regex(
    /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/,
    'expected an e-mail address, like alerts@example.com or "Alerts <alerts@example.com>"',
  );
const SmtpChannel = z
  .object({
    type: z.literal('smtp'),
    host: z.string().min(1),
    /** Default 465 when `secure`, else 587. */
    port: z.number().int().min(1).max(65_535).optional(),
    /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send unless the connection is upgraded with STARTTLS. */
    requireTLS: z.boolean().default(false),
    from: Mailbox,
    to: z.array(Mailbox).min(1),
    auth: z
      .object({ user: z.string().min(1), password: FromEnv })
      .strict()
      .optional(),
    timeoutMs: z.number().int().positive().max(600_000).optional(),
    /** Keys already delivered, so a retried activity does not send twice. Default `<dataDir>/notify/<name>.sent.jsonl`. */
    sentLog: z.string().min(1).optional(),
  })
  .strict();
export const Channel = z.discriminatedUnion('type', [WebhookChannel, FileChannel, SlackChannel, SmtpChannel]);
export type Channel = z.infer<typeof Channel>;

// --- Containment: the emergency API, HTTP connectors to control planes, and the http.request allow-list ---

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A header value: literal text, or `{ fromEnv: NAME }` read from the environment when the request is sent (with an
 * optional `prefix` such as "Bearer "), so tokens stay out of YAML and out of the config handed to workers.
 */
export const HeaderValue = z.union([
  z.string(),
  z
    .object({
      fromEnv: z.string().regex(ENV_NAME, 'expected an environment variable name, like FIREWALL_TOKEN'),
      prefix: z.string().optional(),
    })
    .strict(),
]);
export type HeaderValue = z.infer<typeof HeaderValue>;
const HeaderMap = z
  .record(z.string().regex(HEADER_NAME, 'expected an HTTP header name, like Authorization'), HeaderValue)
  .default({});

const HttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const TimeoutMs = z
  .number()
  .int('expected whole milliseconds')
  .positive('expected a positive number of milliseconds')
  .max(600_000);

export const EmergencyApiConfig = z
  .object({
    /** Where the application serves /api/emergency, /api/security, /api/recovery and /api/integrity. */
    baseUrl: HttpUrl,
    /** Sent with every request; the auth header belongs here, usually as `{ fromEnv: ... }`. */
    headers: HeaderMap,
    timeoutMs: TimeoutMs.optional(),
    /** A staging copy of the application: technical drills (`drill run --technical`) may act on it for real. */
    staging: z.boolean().optional(),
  })
  .strict();
export type EmergencyApiConfig = z.infer<typeof EmergencyApiConfig>;

export const CONNECTOR_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** What a connector's `url` and `body` placeholders may name: `${params.targets}`, `${incident.id}`, ... */
export const CONNECTOR_TEMPLATE_ROOTS = [
  'params',
  'incident.id',
  'incident.phase',
  'step.id',
  'action',
  'idempotencyKey',
] as const;

function connectorTemplateIssues(value: unknown, where: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  if (typeof value === 'string') {
    let paths: string[];
    try {
      paths = templatePaths(value);
    } catch (error) {
      return [{ path: where, message: (error as TemplateError).message }];
    }
    return paths
      .filter(
        (p) => !CONNECTOR_TEMPLATE_ROOTS.some((root) => p === root || (root === 'params' && p.startsWith('params.'))),
      )
      .map((p) => ({
        path: where,
        message: `placeholder "\${${p}}" cannot resolve; expected params.<field> or one of ${CONNECTOR_TEMPLATE_ROOTS.filter((r) => r !== 'params').join(', ')}`,
      }));
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => connectorTemplateIssues(item, [...where, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => connectorTemplateIssues(item, [...where, key]));
  }
  return [];
}

/** An HTTP endpoint of a control plane (firewall, identity provider, gateway...) that carries out connector actions. */
export const ConnectorConfig = z
  .object({
    /** May hold placeholders; each substituted value is URL-encoded, e.g. `https://idp/api/users/${params.account}/suspend`. */
    url: z.string().min(1, 'expected an http(s) URL'),
    method: z.enum(CONNECTOR_METHODS, { error: `expected one of ${CONNECTOR_METHODS.join(', ')}` }).default('POST'),
    headers: HeaderMap,
    /**
     * JSON template: `${...}` placeholders resolved by path lookup from the action's parameters and the incident ids.
     * A string that is exactly one placeholder keeps the value's type (a list stays a list). Absent: no body.
     */
    body: z.unknown().optional(),
    timeoutMs: TimeoutMs.optional(),
    /** A staging control plane: technical drills (`drill run --technical`) may act on it for real. */
    staging: z.boolean().optional(),
  })
  .strict()
  .superRefine((connector, ctx) => {
    const issues = [
      ...connectorTemplateIssues(connector.url, ['url']),
      ...connectorTemplateIssues(connector.body, ['body']),
    ];
    for (const issue of issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    if (issues.some((issue) => issue.path[0] === 'url')) return;
    // Placeholders become URL-encoded text, so a stand-in tells whether the URL parses.
    let url: URL | undefined;
    try {
      url = new URL(connector.url.replace(/\$\{[^}]*\}/g, 'x'));
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `expected an http(s) URL, received ${JSON.stringify(connector.url)}`,
      });
    } else if (url.username || url.password) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'expected a URL without user info (put credentials in headers)',
      });
    }
  });
export type ConnectorConfig = z.infer<typeof ConnectorConfig>;

/** `host`, `host:port`, `*.example.com` (any subdomain) or `[::1]:8080`; lower case. */
const AllowHost = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(?:(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/,
    'expected a host name, host:port or *.domain, like status.example.com, 127.0.0.1:8080 or *.internal.example.com',
  );

export const HttpActionConfig = z
  .object({
    /** The only hosts `http.request` may reach. Empty: the action refuses every URL. */
    allowHosts: z.array(AllowHost).default([]),
  })
  .strict();

/** The HTTP API that `npm start` serves (src/api/): operators, detectors, OpenAPI docs and metrics. */
export const ApiConfigFile = z
  .object({
    /** Serve the API from `npm start`. Default true. */
    enabled: z.boolean().default(true),
    /** Default 127.0.0.1: the API is reachable only from this machine unless you choose otherwise. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Largest request body accepted, in bytes (413 beyond). Default 1 MiB. */
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** Requests per key (per client address without a key) per minute, by role; 429 beyond. */
    rateLimit: z
      .object({
        viewer: z.number().int().positive().default(600),
        detector: z.number().int().positive().default(6_000),
        operator: z.number().int().positive().default(600),
        commander: z.number().int().positive().default(600),
        anonymous: z.number().int().positive().default(120),
      })
      .strict()
      .prefault({}),
    /** How far a signed webhook's timestamp may be from our clock, in seconds (older: refused as stale). */
    signatureToleranceSeconds: z.number().int().positive().max(3_600).default(300),
    /** The runbook for alerts no runbook's `match` rules select, overriding a runbook's `match.default: true`. */
    defaultRunbook: z.string().min(1).optional(),
    /** Where API keys live (hashed). Default `<dataDir>/api-keys.json`. */
    keysFile: z.string().min(1).optional(),
    /** Take the client address from X-Forwarded-For (only behind a proxy you run). Default false. */
    trustProxy: z.boolean().default(false),
  })
  .strict();
export type ApiConfig = Omit<z.output<typeof ApiConfigFile>, 'keysFile'> & { keysFile: string };

export const EngineConfigFile = z
  .object({
    dataDir: z.string().min(1).optional(),
    evidenceDir: z.string().min(1).optional(),
    /** Relative evidence paths in runbooks resolve against this folder. */
    evidenceBase: z.string().min(1).optional(),
    taskQueue: z.string().min(1).optional(),
    channels: z.record(z.string(), Channel).default({}),
    /** Which channel serves each audience (internal, external, executive, L1, L2, L3); `default` otherwise. */
    audiences: z.record(z.string(), z.string()).default({}),
    /** The protected application's emergency API (app.* actions). Absent: those actions refuse to run. */
    emergencyApi: EmergencyApiConfig.optional(),
    /** HTTP connectors by name (network.*, credentials.*, sessions.*, accounts.*, endpoint.*, circuitBreaker.*). */
    connectors: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a connector name of letters, digits, ".", "_" and "-"'),
        ConnectorConfig,
      )
      .default({}),
    /** Which connector carries out each connector action, unless a step names one with `connector`. */
    connectorFor: z.record(z.string(), z.string()).default({}),
    http: HttpActionConfig.default({ allowHosts: [] }),
    /** Subject and text templates for Slack and e-mail, by audience and severity (domain/message-templates.ts). */
    templates: TemplateConfig.optional(),
    /** `file.quarantine` only moves files under these directories. Absent or empty: it refuses every path. */
    quarantine: z
      .object({ roots: z.array(z.string().min(1)).default([]) })
      .strict()
      .optional(),
    /** The HTTP API (host, port, limits); every field has a default. */
    api: ApiConfigFile.optional(),
    /** Periodic reports and the drill programme (domain/reports-config.ts); every field has a default. */
    reports: ReportsConfigFile.optional(),
  })
  .strict();

export interface EngineConfig {
  dataDir: string;
  evidenceDir: string;
  evidenceBase: string;
  taskQueue: string;
  channels: Record<string, Channel>;
  audiences: Record<string, string>;
  emergencyApi?: EmergencyApiConfig;
  connectors: Record<string, ConnectorConfig>;
  connectorFor: Record<string, string>;
  http: { allowHosts: string[] };
  templates?: TemplateConfig;
  /** Absolute directories `file.quarantine` may take files from. */
  quarantine?: { roots: string[] };
  /** The HTTP API's settings, defaults filled in; `keysFile` is absolute. */
  api: ApiConfig;
  /** Report cadences, their audience and the drill programme; defaults filled in. */
  reports: ReportsConfig;
}

export const DEFAULT_TASK_QUEUE = 'incidents';

/** Parsed file contents; the containment sections may be left out by callers that build a config by hand. */
export type EngineConfigInput = Omit<z.infer<typeof EngineConfigFile>, 'connectors' | 'connectorFor' | 'http'> &
  Partial<Pick<z.infer<typeof EngineConfigFile>, 'connectors' | 'connectorFor' | 'http'>>;
