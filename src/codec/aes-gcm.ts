// The payload codec that encrypts workflow history: each payload (metadata and data, as protobuf bytes) is sealed
// with AES-256-GCM under the newest key; the key id travels in the payload's metadata so any listed key can open it.
// Payloads without our encoding pass through unchanged (histories written before encryption was on still read).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// The package is CommonJS: a default import works both under tsx and in plain Node ESM (the CLI).
import proto from '@temporalio/proto';
import type { CodecKey, CodecKeyring } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const ProtoPayload = proto.temporal.api.common.v1.Payload;

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
}

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, CodecKey>;
  private readonly current: CodecKey;

  constructor(keyring: CodecKeyring) {
    const newest = keyring.keys.at(-1);
    if (!newest) throw new CodecKeyError(`no codec keys in ${keyring.source}; expected at least one`);
    this.current = newest;
    this.byId = new Map(keyring.keys.map((k) => [k.id, k]));
  }

  /** The id of the key that encrypts. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  seal(payload: Payload): Payload {
    const plain = ProtoPayload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    // The key id is authenticated too: moving a payload under another id fails to open.
    cipher.setAAD(utf8.encode(this.current.id));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(this.current.id) },
      data: new Uint8Array(sealed),
    };
  }

  open(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const id = idBytes ? fromUtf8.decode(idBytes) : '';
    const key = this.byId.get(id);
    if (!key) {
      throw new CodecKeyError(
        `payload encrypted with key "${id}", which is not among the codec keys (have: ${[...this.byId.keys()].join(', ')}); add it to the keys file or ${'INCIDENT_ENGINE_CODEC_KEYS'}`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new CodecKeyError(`encrypted payload of ${data.length} bytes is too short`);
    const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CodecKeyError(
        `payload encrypted with key "${id}" does not authenticate: altered, or a different key under that id`,
      );
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }
}

/** A codec under one random key held only in memory: for drills, whose server and history die with them. */
export function ephemeralCodec(): AesGcmCodec {
  return new AesGcmCodec({
    keys: [{ id: `drill-${randomBytes(4).toString('hex')}`, key: randomBytes(32) }],
    source: 'drill',
  });
}
