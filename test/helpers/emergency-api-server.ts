// Reference implementation of the protected application's emergency API (the Fiovana procedures) for tests: a real HTTP server on
// 127.0.0.1 holding safe mode, kill switch, quarantine, restores and integrity state. It requires a bearer token,
// honours Idempotency-Key (a repeated key gets the first answer and applies nothing), can fail or hang the next N
// requests, and logs every applied change in `effects`. `startJsonPeer` is the shared core, also used by
// control-plane-server.ts. Test-only: loopback only, never imported by production code.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { SAFE_MODE_LEVELS, type SafeModeLevel, safeModeLevel } from '../../domain/actions/emergency';

// --- The shared core: auth, idempotency, fault injection, request log ---

export interface PeerRequest {
  method: string;
  /** Path without the query string, e.g. `/api/emergency/safe-mode/emergency`. */
  path: string;
  /** Path segments, URL-decoded. */
  segments: string[];
  headers: IncomingHttpHeaders;
  /** Parsed JSON; undefined when the request had no body. */
  body: unknown;
  idempotencyKey: string | undefined;
}

export interface PeerResponse {
  status: number;
  body: unknown;
}

/** Answers one authorised request and applies its effect; called at most once per Idempotency-Key. */
export type PeerHandler = (request: PeerRequest) => PeerResponse;

/**
 * What the next requests suffer, before anything is applied (`status`, `hang`) or after the effect is applied and
 * stored under its key (`apply-then-hang`: the peer did the work but the caller never hears back).
 */
export type Fault =
  | { kind: 'status'; status: number; body?: string; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'apply-then-hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  /** The Authorization header arrived and matched. */
  authorized: boolean;
  body: unknown;
  /** What the peer answered; `hung` when it never answered. */
  status: number | 'hung';
  /** Answered from the idempotency store: nothing was applied. */
  replayed: boolean;
}

export interface JsonPeer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The bearer token the peer accepts (`Authorization: Bearer <token>`). */
  token: string;
  /** Every request in arrival order, failed, refused and replayed ones included. */
  requests: RecordedRequest[];
  /** The next `count` requests suffer `fault` (default: 503). Counts down; `failNext(0)` clears it. */
  failNext(count: number, fault?: Fault): void;
  close(): Promise<void>;
}

export interface JsonPeerOptions {
  token: string;
  handle: PeerHandler;
  /** Used in error bodies, e.g. `emergency-api`. */
  name: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export async function startJsonPeer(options: JsonPeerOptions): Promise<JsonPeer> {
  const requests: RecordedRequest[] = [];
  const stored = new Map<string, { fingerprint: string; response: PeerResponse }>();
  let faults: { remaining: number; fault: Fault } = { remaining: 0, fault: { kind: 'status', status: 503 } };
  const hanging = new Set<ServerResponse>();

  const send = (
    res: ServerResponse,
    record: RecordedRequest,
    response: PeerResponse,
    extra: Record<string, string> = {},
  ): void => {
    record.status = response.status;
    if (res.destroyed) return;
    const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    res.writeHead(response.status, {
      'Content-Type': typeof response.body === 'string' ? 'text/plain' : 'application/json',
      ...extra,
    });
    res.end(text);
  };
  const hang = (res: ServerResponse, record: RecordedRequest): void => {
    record.status = 'hung';
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
  };
  /** A `status` or `hang` fault, taken before anything else happens. */
  const faultBefore = (): Fault | undefined => {
    if (faults.remaining <= 0 || faults.fault.kind === 'apply-then-hang') return undefined;
    faults.remaining -= 1;
    return faults.fault;
  };
  /** An `apply-then-hang` fault, taken once an effect has been applied and stored. */
  const hangAfterApply = (): boolean => {
    if (faults.remaining <= 0 || faults.fault.kind !== 'apply-then-hang') return false;
    faults.remaining -= 1;
    return true;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const method = req.method ?? '';
    const url = new URL(req.url ?? '/', 'http://peer.invalid');
    const header = req.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    const authorized = req.headers.authorization === `Bearer ${options.token}`;
    let body: unknown;
    let json = true;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
        json = false;
      }
    }
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      idempotencyKey: key,
      authorized,
      body,
      status: 0,
      replayed: false,
    };
    requests.push(record);
    const error = (status: number, message: string): void =>
      send(res, record, { status, body: { error: `${options.name}: ${message}` } });

    const fault = faultBefore();
    if (fault?.kind === 'hang') return hang(res, record);
    if (fault?.kind === 'status') {
      const extra: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
      return send(
        res,
        record,
        { status: fault.status, body: fault.body ?? `${options.name}: simulated failure` },
        extra,
      );
    }
    if (!req.headers.authorization)
      return error(401, 'expected an Authorization: Bearer <token> header, received none');
    if (!authorized) return error(401, 'expected a valid bearer token, received an unknown one');
    if (!json) return error(400, `expected a JSON body, received ${JSON.stringify(raw.slice(0, 80))}`);

    const mutating = !SAFE_METHODS.has(method);
    if (mutating && !key) return error(400, 'expected an Idempotency-Key header on a change, received none');
    const fingerprint = `${method} ${url.pathname} ${raw}`;
    const previous = mutating && key ? stored.get(key) : undefined;
    if (previous) {
      record.replayed = true;
      if (previous.fingerprint !== fingerprint) {
        return error(
          422,
          `Idempotency-Key ${JSON.stringify(key)} was first used for a different request (${previous.fingerprint.slice(0, 120)})`,
        );
      }
      return send(res, record, previous.response, { 'Idempotent-Replayed': 'true' });
    }

    let response: PeerResponse;
    try {
      response = options.handle({
        method,
        path: url.pathname,
        segments: url.pathname
          .split('/')
          .filter(Boolean)
          .map((s) => decodeURIComponent(s)),
        headers: req.headers,
        body,
        idempotencyKey: key,
      });
    } catch (caught) {
      return error(500, `handler failed: ${caught instanceof Error ? caught.message : String(caught)}`);
    }
    // A 5xx is not an answer to keep: the caller will retry and should get a fresh attempt.
    if (mutating && key && response.status < 500) stored.set(key, { fingerprint, response });
    if (hangAfterApply()) return hang(res, record);
    send(res, record, response);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'Content-Type': 'text/plain' });
        res.end(`${options.name}: expected at most ${MAX_BODY_BYTES} bytes, received ${size}`);
        return;
      }
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => res.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    requests,
    failNext(count, fault = { kind: 'status', status: 503 }) {
      faults = { remaining: count, fault };
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// --- The emergency API ---

export interface IntegrityStatus {
  valid: boolean;
  violations: unknown[];
}

export interface EmergencyState {
  safeMode: SafeModeLevel;
  killSwitch: boolean;
  quarantined: Set<string>;
  /** Backups the application knows; restoring another answers 404. */
  backups: Set<string>;
  restores: { backupId: string; restoreId: string }[];
  integrity: IntegrityStatus;
}

export interface EmergencyEffect {
  /** The Idempotency-Key of the request that applied it. */
  key: string;
  change: 'safeMode' | 'killSwitch' | 'quarantine' | 'releaseQuarantine' | 'restore';
  detail: Record<string, unknown>;
}

export interface EmergencyApiServer extends JsonPeer {
  /** Live state; tests may read it or set it up before a call. */
  state: EmergencyState;
  /** Every applied change in order: one per Idempotency-Key, never one for a replay or a refused request. */
  effects: EmergencyEffect[];
  /** What GET /api/integrity/validate reports from now on. */
  setIntegrity(status: IntegrityStatus): void;
}

export interface EmergencyApiOptions {
  token?: string;
  initial?: Partial<Omit<EmergencyState, 'quarantined' | 'backups' | 'restores'>> & {
    quarantined?: string[];
    backups?: string[];
  };
}

/**
 * Endpoints (all under /api; every change needs Idempotency-Key):
 *   POST /emergency/safe-mode/:level      -> { level, previous }        (level case-insensitive)
 *   GET  /emergency/safe-mode             -> { level }
 *   POST /emergency/kill-switch/enable|disable -> { enabled, previous }
 *   POST /security/quarantine {"path"}    -> { path, quarantined: true, alreadyQuarantined }
 *   POST /security/quarantine/release {"path"} -> { path, released }    (our extension of the emergency API in the Fiovana procedures)
 *   POST /recovery/restore {"backup_id"}  -> { backup_id, restore_id }  (404 for an unknown backup)
 *   GET  /integrity/validate              -> { valid, violations }
 */
export async function startEmergencyApiServer(options: EmergencyApiOptions = {}): Promise<EmergencyApiServer> {
  const state: EmergencyState = {
    safeMode: options.initial?.safeMode ?? 'Disabled',
    killSwitch: options.initial?.killSwitch ?? false,
    quarantined: new Set(options.initial?.quarantined ?? []),
    backups: new Set(options.initial?.backups ?? ['latest', 'nightly-2026-03-01']),
    restores: [],
    integrity: options.initial?.integrity ?? { valid: true, violations: [] },
  };
  const effects: EmergencyEffect[] = [];
  const apply = (key: string | undefined, change: EmergencyEffect['change'], detail: Record<string, unknown>): void => {
    effects.push({ key: key ?? '', change, detail });
  };
  const bad = (message: string): PeerResponse => ({ status: 400, body: { error: message } });
  const pathOf = (body: unknown): string | undefined => {
    const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).path : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  const handle: PeerHandler = (req) => {
    const route = `${req.method} /${req.segments.join('/')}`;
    const [api, area, what, arg] = req.segments;
    if (api !== 'api') return { status: 404, body: { error: `no route ${route}` } };

    if (area === 'emergency' && what === 'safe-mode' && req.segments.length === 4 && req.method === 'POST') {
      const level = safeModeLevel(arg);
      if (!level)
        return bad(`expected a safe-mode level (${SAFE_MODE_LEVELS.join(', ')}), received ${JSON.stringify(arg)}`);
      const previous = state.safeMode;
      state.safeMode = level;
      apply(req.idempotencyKey, 'safeMode', { from: previous, to: level });
      return { status: 200, body: { level, previous } };
    }
    if (area === 'emergency' && what === 'safe-mode' && req.segments.length === 3 && req.method === 'GET') {
      return { status: 200, body: { level: state.safeMode } };
    }
    if (
      area === 'emergency' &&
      what === 'kill-switch' &&
      req.method === 'POST' &&
      (arg === 'enable' || arg === 'disable')
    ) {
      const previous = state.killSwitch;
      state.killSwitch = arg === 'enable';
      apply(req.idempotencyKey, 'killSwitch', { from: previous, to: state.killSwitch });
      return { status: 200, body: { enabled: state.killSwitch, previous } };
    }
    if (area === 'security' && what === 'quarantine' && req.method === 'POST' && arg === undefined) {
      const path = pathOf(req.body);
      if (!path) return bad('expected {"path": "<file>"}');
      const alreadyQuarantined = state.quarantined.has(path);
      state.quarantined.add(path);
      apply(req.idempotencyKey, 'quarantine', { path, alreadyQuarantined });
      return { status: 200, body: { path, quarantined: true, alreadyQuarantined } };
    }
    if (area === 'security' && what === 'quarantine' && req.method === 'POST' && arg === 'release') {
      const path = pathOf(req.body);
      if (!path) return bad('expected {"path": "<file>"}');
      const released = state.quarantined.delete(path);
      apply(req.idempotencyKey, 'releaseQuarantine', { path, released });
      return { status: 200, body: { path, released } };
    }
    if (area === 'recovery' && what === 'restore' && req.method === 'POST') {
      const backupId = (req.body as Record<string, unknown> | undefined)?.backup_id;
      if (typeof backupId !== 'string' || backupId === '') return bad('expected {"backup_id": "<id>"}');
      if (!state.backups.has(backupId)) {
        return {
          status: 404,
          body: { error: `no backup ${JSON.stringify(backupId)}; have ${[...state.backups].join(', ')}` },
        };
      }
      const restoreId = `restore-${state.restores.length + 1}`;
      state.restores.push({ backupId, restoreId });
      apply(req.idempotencyKey, 'restore', { backupId, restoreId });
      return { status: 202, body: { backup_id: backupId, restore_id: restoreId } };
    }
    if (area === 'integrity' && what === 'validate' && req.method === 'GET') {
      return { status: 200, body: { valid: state.integrity.valid, violations: state.integrity.violations } };
    }
    return { status: 404, body: { error: `no route ${route}` } };
  };

  const peer = await startJsonPeer({ token: options.token ?? 'emergency-test-token', handle, name: 'emergency-api' });
  return {
    ...peer,
    state,
    effects,
    setIntegrity: (status) => {
      state.integrity = status;
    },
  };
}
