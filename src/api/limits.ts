// Input limits on every JSON body the API takes (domain/limits.ts): the whole body, every string, label count, key
// and value, every list and object, and nesting. Checked before schema validation, so no route can forget them and a
// 900 KB title never reaches Temporal. The answer names the field and the limit: 413 for the whole body, 422 else.
import type { FastifyInstance } from 'fastify';
import {
  LABEL_FIELDS,
  MAX_ALERTS_PER_DELIVERY,
  MAX_DEPTH,
  MAX_LABEL_KEY_CHARS,
  MAX_LABEL_VALUE_CHARS,
  MAX_LABELS,
  MAX_LIST_ITEMS,
  MAX_OBJECT_KEYS,
  MAX_PAYLOAD_BYTES,
  MAX_TEXT_CHARS,
  MAX_TITLE_CHARS,
} from '../../domain/limits';
import { ApiError } from './errors';

const tooLarge = (where: string, what: string) => new ApiError(422, 'too_large', `${where}: ${what}`);

function fieldPath(parent: string, key: string | number): string {
  return typeof key === 'number'
    ? `${parent}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${parent}.${key}`
      : `${parent}[${JSON.stringify(key)}]`;
}

function checkLabels(where: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) throw tooLarge(where, `${entries.length} labels; at most ${MAX_LABELS}`);
  for (const [key, v] of entries) {
    if (key.length > MAX_LABEL_KEY_CHARS) {
      throw tooLarge(where, `label name of ${key.length} characters; at most ${MAX_LABEL_KEY_CHARS}`);
    }
    if (typeof v === 'string' && v.length > MAX_LABEL_VALUE_CHARS) {
      throw tooLarge(
        fieldPath(where, key),
        `${v.length} characters; a label value may have at most ${MAX_LABEL_VALUE_CHARS}`,
      );
    }
  }
}

/** Throws an ApiError naming the first field over its limit. */
export function checkInputLimits(value: unknown, where = 'body', depth = 0, key?: string | number): void {
  if (typeof value === 'string') {
    const max = key === 'title' ? MAX_TITLE_CHARS : MAX_TEXT_CHARS;
    if (value.length > max) throw tooLarge(where, `${value.length} characters; at most ${max}`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) throw tooLarge(where, `nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    const max = key === 'alerts' ? MAX_ALERTS_PER_DELIVERY : MAX_LIST_ITEMS;
    if (value.length > max) throw tooLarge(where, `${value.length} items; at most ${max}`);
    value.forEach((item, i) => checkInputLimits(item, fieldPath(where, i), depth + 1, i));
    return;
  }
  const entries = Object.entries(value);
  if (typeof key === 'string' && LABEL_FIELDS.includes(key)) checkLabels(where, value);
  else if (entries.length > MAX_OBJECT_KEYS)
    throw tooLarge(where, `${entries.length} members; at most ${MAX_OBJECT_KEYS}`);
  for (const [k, v] of entries) checkInputLimits(v, fieldPath(where, k), depth + 1, k);
}

/** Checks every request body before validation. */
export function registerInputLimits(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (request.rawBody !== undefined) {
      const bytes = Buffer.byteLength(request.rawBody, 'utf8');
      if (bytes > MAX_PAYLOAD_BYTES) {
        throw new ApiError(413, 'payload_too_large', `body: ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} per request`);
      }
    }
    if (request.body !== undefined) checkInputLimits(request.body);
  });
}
