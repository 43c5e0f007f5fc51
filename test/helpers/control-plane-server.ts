// A stateful control plane for connector tests: firewall blocks, API keys, sessions, accounts, endpoints and circuit
// breakers behind one bearer token, on 127.0.0.1. Built on startJsonPeer (emergency-api-server.ts), so it honours
// Idempotency-Key (a repeated key gets the first answer and applies nothing), can fail or hang the next N requests,
// and logs every applied change in `effects`. Test-only: loopback only, never imported by production code.
import { type JsonPeer, type PeerHandler, type PeerResponse, startJsonPeer } from './emergency-api-server';

export interface ControlPlaneState {
  blocked: Set<string>;
  /** API key id -> version; rotating increments it. */
  keys: Map<string, number>;
  /** Revocations in order: a user id, or `*` for everyone. */
  revoked: string[];
  accounts: Map<string, 'active' | 'suspended'>;
  endpoints: Map<string, 'enabled' | 'disabled'>;
  breakers: Map<string, 'open' | 'closed'>;
}

export interface ControlPlaneEffect {
  key: string;
  op: string;
  detail: Record<string, unknown>;
}

export interface ControlPlaneServer extends JsonPeer {
  state: ControlPlaneState;
  /** Every applied change in order: one per Idempotency-Key, none for a replay or a refused request. */
  effects: ControlPlaneEffect[];
}

/**
 * Endpoints (JSON; every change needs Idempotency-Key):
 *   POST   /v1/firewall/blocks {targets: string[]}     -> { added, already }
 *   DELETE /v1/firewall/blocks {targets: string[]}     -> { removed, absent }
 *   POST   /v1/keys/:keyId/rotate                      -> { keyId, version }
 *   POST   /v1/sessions/revoke {user} | {all: true}    -> { revoked }
 *   POST   /v1/accounts/:account/suspend|reinstate     -> { account, status, previous }
 *   POST   /v1/endpoints/:endpoint/disable|enable      -> { endpoint, status, previous }
 *   PUT    /v1/breakers/:breaker {state: open|closed}  -> { breaker, state, previous }
 */
export async function startControlPlaneServer(token = 'control-plane-test-token'): Promise<ControlPlaneServer> {
  const state: ControlPlaneState = {
    blocked: new Set(),
    keys: new Map([['ci-deploy-key', 1]]),
    revoked: [],
    accounts: new Map([['user-4711', 'active']]),
    endpoints: new Map(),
    breakers: new Map(),
  };
  const effects: ControlPlaneEffect[] = [];
  const apply = (key: string | undefined, op: string, detail: Record<string, unknown>): void => {
    effects.push({ key: key ?? '', op, detail });
  };
  const bad = (message: string): PeerResponse => ({ status: 400, body: { error: message } });
  const field = (body: unknown, name: string): unknown =>
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)[name]
      : undefined;
  const targetsOf = (body: unknown): string[] | undefined => {
    const targets = field(body, 'targets');
    return Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string')
      ? (targets as string[])
      : undefined;
  };

  const handle: PeerHandler = (req) => {
    const [version, area, subject, verb] = req.segments;
    const route = `${req.method} ${req.path}`;
    if (version !== 'v1') return { status: 404, body: { error: `no route ${route}` } };

    if (
      area === 'firewall' &&
      subject === 'blocks' &&
      verb === undefined &&
      (req.method === 'POST' || req.method === 'DELETE')
    ) {
      const targets = targetsOf(req.body);
      if (!targets) return bad('expected {"targets": ["<address or CIDR>", ...]}');
      if (req.method === 'POST') {
        const added = targets.filter((t) => !state.blocked.has(t));
        for (const t of added) state.blocked.add(t);
        apply(req.idempotencyKey, 'block', {
          targets,
          added,
          reason: field(req.body, 'reason') ?? null,
          incident: field(req.body, 'incident') ?? null,
        });
        return { status: 201, body: { added, already: targets.filter((t) => !added.includes(t)) } };
      }
      const removed = targets.filter((t) => state.blocked.delete(t));
      apply(req.idempotencyKey, 'unblock', { targets, removed });
      return { status: 200, body: { removed, absent: targets.filter((t) => !removed.includes(t)) } };
    }
    if (area === 'keys' && subject && verb === 'rotate' && req.method === 'POST') {
      const current = state.keys.get(subject);
      if (current === undefined) return { status: 404, body: { error: `no API key ${JSON.stringify(subject)}` } };
      state.keys.set(subject, current + 1);
      apply(req.idempotencyKey, 'rotate', { keyId: subject, version: current + 1 });
      return { status: 200, body: { keyId: subject, version: current + 1 } };
    }
    if (area === 'sessions' && subject === 'revoke' && req.method === 'POST') {
      const user = field(req.body, 'user');
      const all = field(req.body, 'all') === true;
      if ((typeof user === 'string') === all) return bad('expected {"user": "<id>"} or {"all": true}');
      const who = all ? '*' : (user as string);
      state.revoked.push(who);
      apply(req.idempotencyKey, 'revoke', { user: who });
      return { status: 200, body: { revoked: who } };
    }
    if (area === 'accounts' && subject && (verb === 'suspend' || verb === 'reinstate') && req.method === 'POST') {
      const previous = state.accounts.get(subject);
      if (previous === undefined) return { status: 404, body: { error: `no account ${JSON.stringify(subject)}` } };
      const status = verb === 'suspend' ? 'suspended' : 'active';
      state.accounts.set(subject, status);
      apply(req.idempotencyKey, verb, { account: subject, from: previous, to: status });
      return { status: 200, body: { account: subject, status, previous } };
    }
    if (area === 'endpoints' && subject && (verb === 'disable' || verb === 'enable') && req.method === 'POST') {
      const previous = state.endpoints.get(subject) ?? 'enabled';
      const status = verb === 'disable' ? 'disabled' : 'enabled';
      state.endpoints.set(subject, status);
      apply(req.idempotencyKey, verb, { endpoint: subject, from: previous, to: status });
      return { status: 200, body: { endpoint: subject, status, previous } };
    }
    if (area === 'breakers' && subject && verb === undefined && req.method === 'PUT') {
      const wanted = field(req.body, 'state');
      if (wanted !== 'open' && wanted !== 'closed') return bad('expected {"state": "open" | "closed"}');
      const previous = state.breakers.get(subject) ?? 'closed';
      state.breakers.set(subject, wanted);
      apply(req.idempotencyKey, wanted === 'open' ? 'open' : 'close', { breaker: subject, from: previous, to: wanted });
      return { status: 200, body: { breaker: subject, state: wanted, previous } };
    }
    return { status: 404, body: { error: `no route ${route}` } };
  };

  const peer = await startJsonPeer({ token, handle, name: 'control-plane' });
  return { ...peer, state, effects };
}
