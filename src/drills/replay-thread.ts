// The body of a replay thread (src/drills/replay-threads.ts starts them): says it is ready, then replays batch after
// batch, each with the bundle and keyring it comes with, taking its histories from the pool's queue a few at a time
// and posting back the results. Its own Temporal runtime, quiet like the caller's, and the same replay sandbox
// (src/drills/replay-sandbox.ts).
import { parentPort } from 'node:worker_threads';
import type { WorkflowBundle } from '@temporalio/worker';
import type { CodecKey, CodecKeyring } from '../codec/keys';
import { type QueuedHistory, type ShareResult, replayShare } from './replay-share';
import { skipExecutionWatchdogOnThisThread, skipStackTracesOnThisThread } from './replay-sandbox';
import { quietTemporalRuntime } from './server';

/** Pool to thread: a batch to replay, then a chunk of it for each request, an empty one when the queue is empty. */
export type PoolMessage =
  { bundle: WorkflowBundle; keyring?: CodecKeyring; replayName: string } | { chunk: QueuedHistory[] };

/** Thread to pool: started; more histories, please; or the batch's results, once the queue is empty. */
export type ThreadMessage = { ready: true } | { more: true } | { results: ShareResult[] };

const port = parentPort!;
const inbox: PoolMessage[] = [];
const waiting: ((message: PoolMessage) => void)[] = [];
port.on('message', (message: PoolMessage) => {
  const receiver = waiting.shift();
  if (receiver) receiver(message);
  else inbox.push(message);
});
const receive = () =>
  inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise<PoolMessage>((resolve) => waiting.push(resolve));
const post = (message: ThreadMessage) => port.postMessage(message);

await quietTemporalRuntime();
skipStackTracesOnThisThread();
skipExecutionWatchdogOnThisThread();
post({ ready: true });

const take = async () => {
  post({ more: true });
  const message = await receive();
  if (!('chunk' in message)) throw new Error('replay thread: expected a chunk of histories, got a new batch');
  return message.chunk;
};

for (;;) {
  const batch = await receive();
  if (!('bundle' in batch)) throw new Error('replay thread: expected a batch, got a chunk of histories');
  // Buffers arrive as plain Uint8Arrays.
  const keyring = batch.keyring && {
    ...batch.keyring,
    keys: batch.keyring.keys.map((k: CodecKey) => ({ id: k.id, key: Buffer.from(k.key) })),
  };
  post({ results: await replayShare(batch.bundle, take, keyring, batch.replayName) });
}
