// The answers to requests Node's HTTP parser refuses (src/api/client-errors.ts): each in the API's `{error, message}`
// shape with its status, including the request timeout, which an end-to-end test would wait 30 s and more for.
import { describe, expect, it } from 'vitest';
import { REQUEST_TIMEOUT_MS, clientErrorResponse } from '../../src/api/client-errors';
import { ErrorBody } from '../../src/api/errors';

describe('answers to requests the HTTP parser refuses', () => {
  it.each([
    [
      'ERR_HTTP_REQUEST_TIMEOUT',
      408,
      'request_timeout',
      `the request was not received within ${REQUEST_TIMEOUT_MS / 1000} s`,
    ],
    [
      'HPE_HEADER_OVERFLOW',
      431,
      'headers_too_large',
      'the request line and headers are larger than the limit of 16384 bytes',
    ],
    ['HPE_INVALID_EOF_STATE', 400, 'bad_request', 'the request ended before the body its Content-Length announced'],
    ['HPE_INVALID_METHOD', 400, 'bad_request', 'the request is not valid HTTP/1.1 (HPE_INVALID_METHOD)'],
    [undefined, 400, 'bad_request', 'the request is not valid HTTP/1.1 (parse error)'],
  ])('%s: %i %s', (code, status, error, message) => {
    const answer = clientErrorResponse(code);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error, message });
    expect(ErrorBody.strict().parse(answer.body)).toEqual(answer.body);
  });
});
