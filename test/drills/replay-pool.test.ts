// Replay of a large batch on several threads: the recorded histories of test/replay (twice over, and a tampered copy)
// are shared between the calling thread and a replay thread; every outcome comes back under its own name, in input
// order, and the tampered one with its divergence. A replay thread decrypts histories encrypted with the engine's
// codec with the keyring handed to it, and not without it. A history that does not parse fails the batch naming its
// file. Replay threads started ahead take a share of every batch and stay up between batches; closed during one, they
// fail it. Each replay call into a workflow runs without an execution watchdog.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import type { Payload } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  MIN_HISTORIES_FOR_THREADS,
  type ReplayInput,
  loadHistories,
  replayHistories,
  startReplayThreads,
} from '../../src/drills/replay';
import { ReplayThreads } from '../../src/drills/replay-threads';
import { bundleWorkflows } from '../../src/worker';
import { testCodec, testKeyring } from '../helpers/codec';

const HISTORIES = path.resolve(import.meta.dirname, '../replay/histories');
const TAMPERED_FROM = 'alert-labels.contain';
const PLAIN = new Set(['markerRecordedEventAttributes', 'header', 'searchAttributes']);

let bundle: WorkflowBundle;
let recorded: ReplayInput[];

beforeAll(async () => {
  bundle = await bundleWorkflows();
  recorded = loadHistories([HISTORIES]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The recorded contain phase with its blocking action's type changed: the code schedules another activity there. */
function tampered(): ReplayInput {
  const file = path.join(HISTORIES, `${TAMPERED_FROM}.json`);
  const history = JSON.parse(readFileSync(file, 'utf8')) as ReplayInput['history'];
  const scheduled = history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
  const attributes = scheduled.activityTaskScheduledEventAttributes as { activityType: { name: string } };
  attributes.activityType.name = 'notify.send';
  return { name: 'tampered.json', workflowId: TAMPERED_FROM, history };
}

/**
 * The history's payloads encrypted with the test keys, as the engine's workers store them: inputs, results, signals.
 * Markers (core reads patch and local-activity markers itself), headers and search attributes stay as they are.
 */
async function encrypted(input: ReplayInput): Promise<ReplayInput> {
  const history = historyFromJSON(input.history);
  const slots: [Record<string, unknown>, string][] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (PLAIN.has(key)) continue;
      if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) continue;
      const payload = value as Payload;
      if (payload.metadata?.encoding instanceof Uint8Array && payload.data instanceof Uint8Array)
        slots.push([node as Record<string, unknown>, key]);
      else walk(value);
    }
  };
  walk(history);
  const sealed = await testCodec.encode(slots.map(([node, key]) => node[key] as Payload));
  slots.forEach(([node, key], i) => (node[key] = sealed[i]));
  return { ...input, history: JSON.parse(historyToJSON(history)) as ReplayInput['history'] };
}

describe('a batch shared between the calling thread and a replay thread', () => {
  it('comes back whole and in order, the tampered history with its divergence', async () => {
    const inputs = [...recorded, ...recorded, tampered(), ...recorded.slice(0, 10)];
    const outcomes = await replayHistories(inputs, { workflowBundle: bundle, threads: 2 });

    expect(outcomes.map((o) => o.name)).toEqual(inputs.map((i) => i.name));
    expect(outcomes.map((o) => o.events)).toEqual(inputs.map((i) => i.history.events.length));
    expect(outcomes.filter((o) => o.thread > 1)).toEqual([]);
    const bad = outcomes.filter((o) => !o.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({
      name: 'tampered.json',
      failure: 'nondeterminism',
      divergence: { eventId: 30, eventType: 'ACTIVITY_TASK_SCHEDULED', detail: 'notify.send' },
    });
    expect(bad[0]!.message).toContain('notify.send');
  });

  it('runs a replay thread that decrypts with the keyring handed to it, and fails without it', async () => {
    // The thread itself, fed by hand: how much of a batch the replay thread takes depends on how fast it starts.
    const one = await encrypted(recorded.find((r) => r.workflowId === TAMPERED_FROM)!);
    expect(JSON.stringify(one.history)).toContain(Buffer.from('binary/encrypted').toString('base64'));
    const feed = () => {
      const queue = ['a', 'b', 'c'].map((id) => ({ replayId: id, history: one.history }));
      return (count: number) => queue.splice(0, count);
    };
    const threads = new ReplayThreads(1);
    try {
      const withKeys = await threads.share(bundle, testKeyring, feed());
      expect(withKeys).toEqual(['a', 'b', 'c'].map((id) => ({ replayId: id, thread: 1 })));

      const withoutKeys = await threads.share(bundle, undefined, feed());
      expect(withoutKeys.map((r) => [r.replayId, r.nondeterminism])).toEqual([
        ['a', false],
        ['b', false],
        ['c', false],
      ]);
      expect(withoutKeys[0]!.message).toContain('Unknown encoding: binary/encrypted');
    } finally {
      await threads.close();
    }
  });

  it('fails the batch naming a history that does not parse', async () => {
    const broken: ReplayInput = {
      name: 'broken.json',
      workflowId: 'broken',
      history: { events: [{ eventId: 'one', eventType: 'EVENT_TYPE_NO_SUCH_EVENT' }] },
    };
    await expect(
      replayHistories([...recorded.slice(0, MIN_HISTORIES_FOR_THREADS), broken], {
        workflowBundle: bundle,
        threads: 2,
      }),
    ).rejects.toThrow(/^broken\.json: not a valid history: /);
  });
});

describe('replay threads started ahead, as drill replay starts them while it bundles', () => {
  it('take a share of each batch once ready, stay up between batches, and refuse work once closed', async () => {
    const threads = startReplayThreads(MIN_HISTORIES_FOR_THREADS, 2)!;
    expect(threads.count).toBe(1);
    expect(startReplayThreads(MIN_HISTORIES_FOR_THREADS - 1, 2)).toBeUndefined();
    try {
      await threads.ready();
      const large = [...recorded, ...recorded];
      const first = await replayHistories(large, { workflowBundle: bundle, replayThreads: threads });
      expect(first.filter((o) => !o.ok)).toEqual([]);
      // Ready before the batch, the thread replays from its start: a share of 234 histories, however the two race.
      expect(first.filter((o) => o.thread === 1).length).toBeGreaterThan(0);

      // A small batch uses them too, and they are still there after it.
      const few = recorded.slice(0, 5);
      const second = await replayHistories(few, { workflowBundle: bundle, replayThreads: threads });
      expect(second.map((o) => [o.name, o.ok])).toEqual(few.map((i) => [i.name, true]));
    } finally {
      await threads.close();
    }
    await expect(threads.share(bundle, undefined, () => [])).rejects.toThrow('replay thread 1 is closed');
  });
});

describe('replay threads closed during a batch', () => {
  it('fail that batch, naming the thread', async () => {
    const threads = new ReplayThreads(1);
    const queue = [...recorded, ...recorded].map((r, i) => ({ replayId: `${i}`, history: r.history }));
    let taken = 0;
    const batch = threads.share(bundle, undefined, (count) => {
      taken += count;
      return queue.splice(0, count);
    });
    await vi.waitFor(() => expect(taken).toBeGreaterThan(0), { timeout: 30_000 });
    await threads.close();
    await expect(batch).rejects.toThrow('replay thread 1 was closed during a batch');
    expect(queue.length).toBeGreaterThan(0);
  });
});

describe('a batch smaller than MIN_HISTORIES_FOR_THREADS', () => {
  it('replays in the calling thread, and no call into a workflow starts an execution watchdog', async () => {
    const run = vi.spyOn(vm.Script.prototype, 'runInContext');
    const few = recorded.slice(0, MIN_HISTORIES_FOR_THREADS - 1);
    const outcomes = await replayHistories(few, { workflowBundle: bundle, threads: 2 });

    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.thread))).toEqual(new Set([0]));
    expect(run.mock.calls.length).toBeGreaterThan(few.length);
    // A timeout makes Node start a watchdog thread for the call; replay's is 49 days, so it guards nothing.
    expect(run.mock.calls.filter(([, options]) => options?.timeout !== undefined)).toEqual([]);
  });
});
