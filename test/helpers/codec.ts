// The payload codec test stacks run with, so tests exercise encrypted history as the product does: two fixed keys
// (the second encrypts), also handed to CLI child processes through INCIDENT_ENGINE_CODEC_KEYS. Test-only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AesGcmCodec } from '../../src/codec/aes-gcm';
import { dataConverterFor } from '../../src/codec/engine';
import { CODEC_KEYS_ENV, parseKeyList } from '../../src/codec/keys';

export const TEST_CODEC_KEYS = [
  `test-old=${Buffer.alloc(32, 1).toString('base64')}`,
  `test-new=${Buffer.alloc(32, 2).toString('base64')}`,
].join(',');

export const testKeyring = { keys: parseKeyList(TEST_CODEC_KEYS), source: 'test' };
export const testCodec = new AesGcmCodec(testKeyring);
export const testDataConverter = dataConverterFor(testCodec);
export const testCodecEnv = { [CODEC_KEYS_ENV]: TEST_CODEC_KEYS };

/**
 * A bare codec server (POST /encode, /decode) with the test keys on a free loopback port, for `temporal` CLI calls
 * in tests that run no API: `--codec-endpoint <url>`.
 */
export async function startTestCodecServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      void (async () => {
        const op = request.url?.endsWith('/encode') ? 'encode' : 'decode';
        const { payloads = [] } = JSON.parse(body) as {
          payloads?: { metadata?: Record<string, string>; data?: string }[];
        };
        const input = payloads.map((p) => ({
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(p.data ?? '', 'base64'),
        }));
        const output = op === 'encode' ? await testCodec.encode(input) : await testCodec.decode(input);
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            payloads: output.map((p) => ({
              metadata: Object.fromEntries(
                Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
              ),
              data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
            })),
          }),
        );
      })().catch((error: Error) => {
        response.statusCode = 422;
        response.end(JSON.stringify({ error: 'codec_failed', message: error.message }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
