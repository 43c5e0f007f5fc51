// The engine's data converter: every client, worker, replay and drill builds it here, so all of them read and write
// the same encrypted payloads. Search attributes never pass through a codec (Temporal indexes them as they are).
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm';
import { loadCodecKeys } from './keys';

/** The codec from the engine's keys (created in `dataDir` at first use unless given by the environment). */
export function engineCodec(dataDir: string, env: NodeJS.ProcessEnv = process.env): AesGcmCodec {
  return new AesGcmCodec(loadCodecKeys(dataDir, env));
}

export function dataConverterFor(codec: AesGcmCodec): DataConverter {
  return { payloadCodecs: [codec] };
}
