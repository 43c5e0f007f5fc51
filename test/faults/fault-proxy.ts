// A fault-injecting HTTP proxy in front of a reference peer (test/helpers/webhook-sink.ts): each request takes the
// next fault from a queue and suffers it, or passes through when the queue is empty. `reset` drops the connection
// and `503` answers at once, both without reaching the peer (no effect); `hang` reaches the peer (the effect is
// applied) and never answers, like an acknowledgement lost on the way back; `slow` reaches it and answers late.
// Test-only: loopback only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'reset' | '503' | 'hang' | { slowMs: number };

export interface FaultProxy {
  url: string;
  /** Faults for the next requests, in order. */
  inject(...faults: Fault[]): void;
  /** Drops the faults not used yet. */
  clear(): void;
  /** Requests seen, with the fault each suffered ('pass' when none). */
  seen: Array<{ idempotencyKey: string | undefined; fault: string }>;
  close(): Promise<void>;
}

const HANG_MS = 60_000;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const queue: Fault[] = [];
  const seen: FaultProxy['seen'] = [];
  const held = new Set<ServerResponse>();

  async function forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; text: string }> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) {
        headers.set(name, value);
      }
    }
    const answer = await fetch(new URL(req.url ?? '/', target), {
      method: req.method ?? 'POST',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    return { status: answer.status, text: await answer.text() };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const fault = queue.shift();
      const key = req.headers['idempotency-key'];
      seen.push({
        idempotencyKey: typeof key === 'string' ? key : undefined,
        fault: fault === undefined ? 'pass' : typeof fault === 'string' ? fault : `slow ${fault.slowMs}ms`,
      });
      if (fault === 'reset') return void req.socket.destroy();
      if (fault === '503') {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' });
        return void res.end('proxy: injected 503');
      }
      void forward(req, Buffer.concat(chunks)).then(
        ({ status, text }) => {
          if (fault === 'hang') {
            held.add(res);
            setTimeout(() => {
              held.delete(res);
              res.socket?.destroy();
            }, HANG_MS).unref();
            return;
          }
          const send = () => {
            if (res.destroyed) return;
            res.writeHead(status, { 'Content-Type': 'application/json' });
            res.end(text);
          };
          if (fault && typeof fault === 'object') setTimeout(send, fault.slowMs).unref();
          else send();
        },
        (error: Error) => {
          res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end(`proxy: peer unreachable: ${error.message}`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (...faults) => void queue.push(...faults),
    clear: () => void queue.splice(0),
    seen,
    close: async () => {
      for (const res of held) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
