// Decrypts every payload in a fetched workflow history (inputs, results, signals, updates, memos, headers), for
// `incident export` and anything else that reads raw histories: Temporal hands history back as stored, encrypted.
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { ENCRYPTED_ENCODING } from './aes-gcm';

const fromUtf8 = new TextDecoder();

function isEncryptedPayload(value: object): value is Payload {
  const encoding = (value as Payload).metadata?.encoding;
  return encoding instanceof Uint8Array && fromUtf8.decode(encoding) === ENCRYPTED_ENCODING;
}

/** Every place under `node` that holds an encrypted payload, as [container, key]. */
function encryptedSlots(node: unknown, out: [Record<string | number, unknown>, string | number][] = []) {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return out;
  const container = node as Record<string | number, unknown>;
  for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
    const value = container[key];
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) continue;
    if (isEncryptedPayload(value)) out.push([container, key]);
    else encryptedSlots(value, out);
  }
  return out;
}

/** Decrypts the history's payloads in place with `codecs` (decoded in reverse order, as Temporal does). */
export async function decryptHistory<H extends History>(history: H, codecs: PayloadCodec[]): Promise<H> {
  const slots = encryptedSlots(history);
  if (slots.length === 0 || codecs.length === 0) return history;
  let payloads = slots.map(([container, key]) => container[key] as Payload);
  for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
  slots.forEach(([container, key], i) => (container[key] = payloads[i]));
  return history;
}
