// Requests Node's HTTP parser refuses before Fastify routes them (headers past the size limit, a body shorter than its
// Content-Length, bytes that are not HTTP, a request not received within REQUEST_TIMEOUT_MS) are answered in the API's
// error shape, `{error, message}`, like every other refusal, and the connection is closed.
import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './errors';

/** The whole request (headers and body) must arrive within this: a client that sends slowly cannot hold a connection. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The answer to a parser error, by its code. */
export function clientErrorResponse(code: string | undefined): { status: number; reason: string; body: ErrorBody } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        body: {
          error: 'request_timeout',
          message: `the request was not received within ${REQUEST_TIMEOUT_MS / 1000} s`,
        },
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        body: {
          error: 'headers_too_large',
          message: `the request line and headers are larger than the limit of ${maxHeaderSize} bytes`,
        },
      };
    case 'HPE_INVALID_EOF_STATE':
      return {
        status: 400,
        reason: 'Bad Request',
        body: { error: 'bad_request', message: 'the request ended before the body its Content-Length announced' },
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        body: { error: 'bad_request', message: `the request is not valid HTTP/1.1 (${code ?? 'parse error'})` },
      };
  }
}

/** Fastify's `clientErrorHandler`: writes the answer, if the socket can still take one, and closes it. */
export function handleClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, reason, body } = clientErrorResponse(error.code);
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}
