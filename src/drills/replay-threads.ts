// Replay threads (src/drills/replay-thread.ts) that stay up from batch to batch. A thread's start (its loader, the
// SDK, its own Temporal runtime) takes a second or two: `drill replay` starts its threads before it bundles the
// workflow code, so that they are ready when the batch is, and a caller replaying batch after batch pays it once.
import { Worker as Thread } from 'node:worker_threads';
import type { WorkflowBundle } from '@temporalio/worker';
import type { CodecKeyring } from '../codec/keys';
import type { QueuedHistory, ShareResult } from './replay-share';
import type { PoolMessage, ThreadMessage } from './replay-thread';

/** Histories a replay thread takes at once: few, so that the last ones are spread, and the messages stay rare. */
const CHUNK = 4;

export interface ThreadResult extends ShareResult {
  /** Where it was replayed: 0 the calling thread, 1 and up the replay threads. */
  thread: number;
}

interface Batch {
  take: (count: number) => QueuedHistory[];
  resolve: (results: ShareResult[]) => void;
  reject: (error: Error) => void;
}

class ReplayThread {
  readonly ready: Promise<void>;
  private readonly worker: Thread;
  private batch: Batch | undefined;
  private failure: Error | undefined;
  private closing = false;

  constructor(readonly number: number) {
    this.worker = new Thread(new URL('./replay-thread.mjs', import.meta.url));
    let started: () => void;
    this.ready = new Promise((resolve) => (started = resolve));
    this.worker.on('message', (message: ThreadMessage) => {
      if ('ready' in message) started();
      else if ('more' in message) this.send({ chunk: this.batch?.take(CHUNK) ?? [] });
      else this.settle((batch) => batch.resolve(message.results));
    });
    const fail = (error: Error) => {
      this.failure ??= new Error(`replay thread ${number} failed: ${error.message}`, { cause: error });
      started();
      this.settle((batch) => batch.reject(this.failure!));
    };
    this.worker.once('error', fail);
    this.worker.once('exit', (code) => {
      if (!this.closing) fail(new Error(`it exited with code ${code}`));
      else this.settle((batch) => batch.reject(new Error(`replay thread ${number} was closed during a batch`)));
    });
  }

  /** Replays what `take` hands it, CHUNK at a time, until it hands none. */
  share(
    bundle: WorkflowBundle,
    keyring: CodecKeyring | undefined,
    take: (count: number) => QueuedHistory[],
  ): Promise<ShareResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error(`replay thread ${this.number} is closed`));
    if (this.batch) return Promise.reject(new Error(`replay thread ${this.number} is replaying another batch`));
    return new Promise((resolve, reject) => {
      this.batch = { take, resolve, reject };
      this.send({ bundle, ...(keyring ? { keyring } : {}), replayName: `incident-engine-replay-${this.number}` });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private send(message: PoolMessage) {
    this.worker.postMessage(message);
  }

  private settle(how: (batch: Batch) => void) {
    const batch = this.batch;
    this.batch = undefined;
    if (batch) how(batch);
  }
}

export class ReplayThreads {
  private readonly threads: ReplayThread[];

  /** Starts `count` replay threads, numbered 1 and up; they are ready (`ready()`) a second or two later. */
  constructor(count: number) {
    this.threads = Array.from({ length: count }, (_, k) => new ReplayThread(k + 1));
  }

  get count(): number {
    return this.threads.length;
  }

  /** Resolves once every thread has started (or failed to: the next batch then says why). */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.ready));
  }

  /**
   * Every thread replays what `take` hands it until it hands none, whenever it is ready; one thread's failure fails
   * the batch, and the others stop taking.
   */
  async share(
    bundle: WorkflowBundle,
    keyring: CodecKeyring | undefined,
    take: (count: number) => QueuedHistory[],
  ): Promise<ThreadResult[]> {
    let failed = false;
    const guarded = (count: number) => (failed ? [] : take(count));
    const shares = await Promise.all(
      this.threads.map((thread) =>
        thread.share(bundle, keyring, guarded).then(
          (results) => results.map((r) => ({ ...r, thread: thread.number })),
          (error: unknown) => {
            failed = true;
            throw error;
          },
        ),
      ),
    );
    return shares.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
