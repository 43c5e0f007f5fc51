// Reference webhook peer for tests: a real HTTP server on 127.0.0.1 that honours Idempotency-Key.
// The first successful delivery per key is the effect; later ones are acknowledged (200) but never applied again.
// Test-only: must never listen on anything but loopback, and never be imported by production code.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface SinkBehaviour {
  /** Answer the next N requests with `failStatus` (not applied). Counts down; setBehaviour resets it. */
  failFirst: number;
  /** Status for the simulated failures. Default 503. */
  failStatus: number;
  /** Body for the simulated failures. */
  failBody: string;
  /** Wait this long before answering (after the effect is applied, like a peer that is slow to acknowledge). */
  delayMs: number;
  /** When set, only requests whose Idempotency-Key ends with it wait `delayMs`; the others are answered at once. */
  delayKeySuffix: string | undefined;
}

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  idempotencyKey: string | undefined;
  /** What the sink answered. */
  status: number;
  /** True when this request's body became the effect for its key. */
  applied: boolean;
}

export interface WebhookSink {
  /** Base URL, e.g. `http://127.0.0.1:41234`; any path is accepted. */
  url: string;
  /** Every request in arrival order, failed and duplicate ones included. */
  requests: SinkRequest[];
  /** Idempotency-Key -> body of the first successful delivery: what the outside world saw happen. */
  effects(): Map<string, unknown>;
  /** Every request that carried `key`, in arrival order. */
  deliveriesFor(key: string): SinkRequest[];
  setBehaviour(behaviour: Partial<SinkBehaviour>): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startWebhookSink(initial: Partial<SinkBehaviour> = {}): Promise<WebhookSink> {
  const behaviour: SinkBehaviour = {
    failFirst: 0,
    failStatus: 503,
    failBody: 'sink: simulated failure',
    delayMs: 0,
    delayKeySuffix: undefined,
  };
  const update = (next: Partial<SinkBehaviour>): void => {
    for (const [name, value] of Object.entries(next)) {
      if (value !== undefined || name === 'delayKeySuffix') Object.assign(behaviour, { [name]: value });
    }
  };
  update(initial);
  const requests: SinkRequest[] = [];
  const effects = new Map<string, unknown>();
  const timers = new Set<NodeJS.Timeout>();

  const reply = (res: ServerResponse, status: number, payload: unknown, delayMs = 0): void => {
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'Content-Type': typeof payload === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (delayMs <= 0) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, delayMs);
    timers.add(timer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const header = req.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    let body: unknown = raw;
    let json = true;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      json = false;
    }
    const record: SinkRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      idempotencyKey: key,
      status: 0,
      applied: false,
    };
    requests.push(record);
    const delayed = behaviour.delayKeySuffix === undefined || key?.endsWith(behaviour.delayKeySuffix) === true;
    const answer = (status: number, payload: unknown, delayMs = 0): void => {
      record.status = status;
      reply(res, status, payload, delayed ? delayMs : 0);
    };

    if (req.method !== 'POST') return answer(405, `sink: expected POST, received ${req.method ?? '?'}`);
    if (!key) return answer(400, 'sink: expected an Idempotency-Key header, received none');
    if (!json) return answer(400, `sink: expected a JSON body, received ${JSON.stringify(raw.slice(0, 80))}`);
    if (behaviour.failFirst > 0) {
      behaviour.failFirst -= 1;
      return answer(behaviour.failStatus, behaviour.failBody, behaviour.delayMs);
    }
    const duplicate = effects.has(key);
    if (!duplicate) {
      effects.set(key, body);
      record.applied = true;
    }
    answer(200, { ok: true, duplicate }, behaviour.delayMs);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return reply(res, 413, `sink: expected at most ${MAX_BODY_BYTES} bytes, received ${size}`);
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
    requests,
    effects: () => new Map(effects),
    deliveriesFor: (key) => requests.filter((request) => request.idempotencyKey === key),
    setBehaviour: update,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
