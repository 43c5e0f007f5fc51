// A worker as its own OS process, so its resident memory and CPU are its own: `node --import tsx
// bench/worker-process.ts`, spawned by bench/lib/worker-host.ts with an IPC channel. Mode `engine` runs exactly what
// the product runs (createWorker from src/worker.ts: incident, registry and phase workflows, every activity, SDK
// default worker options); mode `ceiling` runs the bench workflows (bench/workflows/, bundled separately) with the
// same options otherwise. Reports process.memoryUsage() every sampleMs; stops on {type:'stop'} or when the parent
// goes away, and exits normally, so that with BENCH_CPU_PROF=1 (node --cpu-prof) every thread, the workflow sandbox's
// included, writes its profile.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { EngineConfig } from '../src/config';
import { createWorker } from '../src/worker';
import { benchActivities } from './activities';

export interface BenchWorkerConfig {
  address: string;
  namespace: string;
  mode: 'engine' | 'ceiling';
  taskQueue: string;
  /** Engine mode: the engine config (its taskQueue must equal taskQueue). */
  engine?: EngineConfig;
  /** A prebuilt workflow bundle (code written to a file). */
  bundlePath: string;
  identity: string;
  sampleMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'mem'; t: number; rss: number; heapUsed: number; heapTotal: number; external: number }
  | { type: 'heap'; report: HeapReport }
  | { type: 'heap-sampling-written'; file: string; error?: string }
  | { type: 'error'; message: string };

export interface HeapUsage {
  usedMb: number;
  totalMb: number;
}
/** V8 heap of every JS thread (main and worker threads, the workflow sandbox's among them), before and after a full GC. */
export interface HeapReport {
  rssMb: number;
  rssAfterGcMb: number;
  threads: { thread: string; before: HeapUsage; afterGc: HeapUsage }[];
  error?: string;
}

/** Messages from the parent. */
export type HostMessage =
  { type: 'stop' } | { type: 'heap' } | { type: 'heap-sampling-start' } | { type: 'heap-sampling-stop'; file: string };

/**
 * The sampling heap profiler on every worker thread (the workflow sandbox's included), kept attached between start and
 * stop: at stop, what is still allocated, by the call stack that allocated it (one JSON file, thread -> profile).
 */
class HeapSampler {
  private session: Session | undefined;
  private threads: { sessionId: string; title: string }[] = [];
  private pending = new Map<number, (result: unknown) => void>();
  private nextId = 1;

  private post<T>(method: string, params: object = {}): Promise<T> {
    return new Promise((resolve, reject) =>
      this.session!.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))),
    );
  }

  private call<T>(sessionId: string, method: string, params: object = {}): Promise<T> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, (result) => resolve(result as T));
      void this.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  }

  async start(): Promise<void> {
    this.session = new Session();
    this.session.connect();
    this.session.on(
      'NodeWorker.attachedToWorker',
      (m: { params: { sessionId: string; workerInfo: { title: string } } }) => {
        this.threads.push({ sessionId: m.params.sessionId, title: m.params.workerInfo.title });
      },
    );
    this.session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
      const reply = JSON.parse(m.params.message) as { id?: number; result?: unknown };
      if (reply.id !== undefined) this.pending.get(reply.id)?.(reply.result);
    });
    await this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await new Promise((r) => setTimeout(r, 500));
    await this.post('HeapProfiler.startSampling', { samplingInterval: 16384 });
    for (const t of this.threads)
      await this.call(t.sessionId, 'HeapProfiler.startSampling', { samplingInterval: 16384 });
  }

  async stop(file: string): Promise<void> {
    const out: Record<string, unknown> = {};
    out.main = (await this.post<{ profile: unknown }>('HeapProfiler.stopSampling')).profile;
    for (const t of this.threads) {
      await this.call(t.sessionId, 'HeapProfiler.collectGarbage');
      out[t.title] = (await this.call<{ profile: unknown }>(t.sessionId, 'HeapProfiler.stopSampling')).profile;
    }
    await writeFile(file, JSON.stringify(out));
    await this.post('NodeWorker.disable');
    this.session?.disconnect();
    this.session = undefined;
    this.threads = [];
  }
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/**
 * Through the inspector, in this process: the main thread's heap, and each worker thread's (NodeWorker domain) before
 * and after HeapProfiler.collectGarbage. This is what RSS cannot say: how much of it is live.
 */
async function heapReport(): Promise<HeapReport> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
    );
  const threads: HeapReport['threads'] = [];
  const rssBefore = process.memoryUsage().rss;
  try {
    const usage = async (call: <T>(method: string) => Promise<T>): Promise<HeapUsage> => {
      const u = await call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
      return { usedMb: mb(u.usedSize), totalMb: mb(u.totalSize) };
    };
    const mainBefore = await usage(post);
    await post('HeapProfiler.collectGarbage');
    threads.push({ thread: 'main', before: mainBefore, afterGc: await usage(post) });

    // Worker threads: attach, then talk to each through NodeWorker.sendMessageToWorker.
    const attached: { sessionId: string; title: string }[] = [];
    const pending = new Map<number, (result: unknown) => void>();
    let nextId = 1;
    session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { title: string } } }) => {
      attached.push({ sessionId: m.params.sessionId, title: m.params.workerInfo.title });
    });
    session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
      const reply = JSON.parse(m.params.message) as { id?: number; result?: unknown };
      if (reply.id !== undefined) pending.get(reply.id)?.(reply.result);
    });
    await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await new Promise((r) => setTimeout(r, 500));
    for (const worker of attached) {
      const call = <T>(method: string): Promise<T> =>
        new Promise((resolve) => {
          const id = nextId++;
          pending.set(id, (result) => resolve(result as T));
          void post('NodeWorker.sendMessageToWorker', {
            sessionId: worker.sessionId,
            message: JSON.stringify({ id, method, params: {} }),
          });
        });
      const before = await usage(call);
      await call('HeapProfiler.collectGarbage');
      threads.push({ thread: worker.title || 'worker thread', before, afterGc: await usage(call) });
    }
    await post('NodeWorker.disable');
  } catch (error) {
    return { rssMb: mb(rssBefore), rssAfterGcMb: mb(process.memoryUsage().rss), threads, error: String(error) };
  } finally {
    session.disconnect();
  }
  return { rssMb: mb(rssBefore), rssAfterGcMb: mb(process.memoryUsage().rss), threads };
}

const send = (message: WorkerMessage): void => {
  if (process.connected) process.send?.(message);
};

async function main(): Promise<void> {
  const raw = process.env.BENCH_WORKER_CONFIG;
  if (!raw) throw new Error('BENCH_WORKER_CONFIG: expected a JSON worker config, received nothing');
  const config = JSON.parse(raw) as BenchWorkerConfig;
  const connection = await NativeConnection.connect({ address: config.address });
  const workflowBundle = { codePath: config.bundlePath };
  const worker =
    config.mode === 'engine'
      ? await createWorker({
          connection,
          namespace: config.namespace,
          config: { ...config.engine!, taskQueue: config.taskQueue },
          workflowBundle,
          identity: config.identity,
          // BENCH_MAX_CACHED_WORKFLOWS and BENCH_WORKFLOW_THREADS compare cache sizes and workflow threads (the
          // product's are WORKER_LIMITS in src/worker.ts).
          limits: {
            ...(process.env.BENCH_MAX_CACHED_WORKFLOWS
              ? { maxCachedWorkflows: Number(process.env.BENCH_MAX_CACHED_WORKFLOWS) }
              : {}),
            ...(process.env.BENCH_WORKFLOW_THREADS
              ? { workflowThreadPoolSize: Number(process.env.BENCH_WORKFLOW_THREADS) }
              : {}),
          },
        })
      : await Worker.create({
          connection,
          namespace: config.namespace,
          taskQueue: config.taskQueue,
          workflowBundle,
          activities: benchActivities,
          identity: config.identity,
        });

  const stop = (): void => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  const heapSampler = new HeapSampler();
  process.on('message', (message: HostMessage) => {
    if (message?.type === 'stop') stop();
    if (message?.type === 'heap') void heapReport().then((report) => send({ type: 'heap', report }));
    if (message?.type === 'heap-sampling-start') void heapSampler.start();
    if (message?.type === 'heap-sampling-stop') {
      const { file } = message;
      void heapSampler.stop(file).then(
        () => send({ type: 'heap-sampling-written', file }),
        (error: unknown) => send({ type: 'heap-sampling-written', file, error: String(error) }),
      );
    }
  });
  process.on('disconnect', stop);

  const sample = (): void => {
    const m = process.memoryUsage();
    send({
      type: 'mem',
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
    });
  };
  const memTimer = setInterval(sample, config.sampleMs);
  const running = worker.run();
  while (worker.getState() === 'INITIALIZED') await new Promise((r) => setTimeout(r, 10));
  if (worker.getState() === 'RUNNING') send({ type: 'ready', pid: process.pid });
  sample();
  try {
    await running;
  } finally {
    clearInterval(memTimer);
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    send({ type: 'error', message });
    process.stderr.write(`bench worker failed: ${message}\n`);
    process.exit(1);
  },
);
