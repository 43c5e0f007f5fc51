// The recording double used by drills: the same workflow code runs, nothing real is touched, and every call that
// would have been made is appended to `<dataDir>/drills/<incidentId>.jsonl`, once per idempotency key.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from './files';

export interface RecordedCall {
  activity: string;
  idempotencyKey: string;
  params: unknown;
}

export function drillRecordFile(dataDir: string, incidentId: string): string {
  return path.join(dataDir, 'drills', `${incidentId}.jsonl`);
}

export async function recordDrillCall(
  dataDir: string,
  incidentId: string,
  call: RecordedCall,
): Promise<{ recorded: true }> {
  const file = drillRecordFile(dataDir, incidentId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let existing = '';
  try {
    existing = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!existing.includes(`"idempotencyKey":${JSON.stringify(call.idempotencyKey)}`)) {
    await appendFile(
      file,
      JSON.stringify({ activity: call.activity, idempotencyKey: call.idempotencyKey, params: call.params }) + '\n',
      { mode: 0o600 },
    );
  }
  return { recorded: true };
}

export async function readDrillCalls(dataDir: string, incidentId: string): Promise<RecordedCall[]> {
  const text = (await readTextIfExists(drillRecordFile(dataDir, incidentId))) ?? '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedCall);
}
