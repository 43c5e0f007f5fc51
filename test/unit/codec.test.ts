// The payload codec and its keys: AES-256-GCM round trips, the key id in the metadata, rotation (the newest key
// encrypts, older ones still decrypt), tampering refused, and the key file created private at first use.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm';
import { addCodecKey, CODEC_KEYS_ENV, loadCodecKeys, parseKeyList } from '../../src/codec/keys';

const dirs: string[] = [];
function tmp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codec-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const text = (bytes: Uint8Array | undefined | null) => Buffer.from(bytes ?? []).toString('utf8');
const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');

describe('AES-GCM payload codec', () => {
  const secret = defaultPayloadConverter.toPayload({ title: 'Admin login from 203.0.113.9 by mallory' });

  it('encrypts under the newest key, names it in the metadata, and decrypts back', async () => {
    const codec = new AesGcmCodec({ keys: parseKeyList(`a=${key(1)},b=${key(2)}`), source: 'test' });
    const [sealed] = await codec.encode([secret]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('b');
    expect(text(sealed!.data)).not.toContain('mallory');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ title: 'Admin login from 203.0.113.9 by mallory' });
  });

  it('decrypts a payload sealed with an older key after a rotation; a codec without that key names it', async () => {
    const before = new AesGcmCodec({ keys: parseKeyList(`old=${key(1)}`), source: 'test' });
    const after = new AesGcmCodec({ keys: parseKeyList(`old=${key(1)},new=${key(2)}`), source: 'test' });
    const onlyNew = new AesGcmCodec({ keys: parseKeyList(`new=${key(2)}`), source: 'test' });
    const [sealed] = await before.encode([secret]);
    expect(defaultPayloadConverter.fromPayload((await after.decode([sealed!]))[0]!)).toMatchObject({
      title: expect.stringContaining('mallory'),
    });
    expect(text((await after.encode([secret]))[0]!.metadata![KEY_ID_METADATA])).toBe('new');
    await expect(onlyNew.decode([sealed!])).rejects.toThrow(
      /key "old", which is not among the codec keys \(have: new\)/,
    );
  });

  it('refuses altered ciphertext and a payload moved under another key id', async () => {
    const codec = new AesGcmCodec({ keys: parseKeyList(`a=${key(1)},b=${key(1)}`), source: 'test' });
    const [sealed] = await codec.encode([secret]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data: flipped }])).rejects.toThrow(/does not authenticate/);
    const moved = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('a') } };
    await expect(codec.decode([moved])).rejects.toThrow(/does not authenticate/);
  });

  it('passes plaintext payloads through (histories from before encryption still read)', async () => {
    const codec = new AesGcmCodec({ keys: parseKeyList(`a=${key(1)}`), source: 'test' });
    expect(await codec.decode([secret])).toEqual([secret]);
  });
});

describe('codec keys', () => {
  it('creates <dataDir>/codec-keys.json with one key, mode 0600, at first use, and reads the same key after', () => {
    const dataDir = path.join(tmp(), 'data');
    const first = loadCodecKeys(dataDir, {});
    const file = path.join(dataDir, 'codec-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]!.key).toHaveLength(32);
    const again = loadCodecKeys(dataDir, {});
    expect(again.keys[0]!.key.equals(first.keys[0]!.key)).toBe(true);
  });

  it('rotates by appending: the new key is last (encrypts), the old one stays', () => {
    const dataDir = tmp();
    const first = loadCodecKeys(dataDir, {});
    const added = addCodecKey(path.join(dataDir, 'codec-keys.json'));
    const after = loadCodecKeys(dataDir, {});
    expect(after.keys.map((k) => k.id)).toEqual([first.keys[0]!.id, added.id]);
    expect(JSON.parse(readFileSync(path.join(dataDir, 'codec-keys.json'), 'utf8')).keys).toHaveLength(2);
  });

  it('takes keys from the environment, and refuses bad ones naming the variable and what was expected', () => {
    expect(loadCodecKeys(tmp(), { [CODEC_KEYS_ENV]: `x=${key(3)}` }).keys.map((k) => k.id)).toEqual(['x']);
    expect(() => parseKeyList(`x=${Buffer.alloc(16).toString('base64')}`)).toThrow(
      /INCIDENT_ENGINE_CODEC_KEYS: key "x" is 16 bytes; expected 32/,
    );
    expect(() => parseKeyList(`x=${key(1)},x=${key(2)}`)).toThrow(/"x" is listed twice/);
    expect(() => loadCodecKeys(tmp(), { INCIDENT_ENGINE_CODEC_KEYS_FILE: '/nonexistent/keys.json' })).toThrow(
      /does not exist/,
    );
  });
});
