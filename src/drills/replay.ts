// `drill replay`: replays recorded histories (files from `temporal workflow show --output json`, bundles from
// `incident export`, or directories of either) against the current workflow code with one prebuilt bundle, and
// reports for each whether it replays clean or where it first diverges: the nondeterminism error's own words, plus the
// event it concerns, found by replaying ever shorter prefixes of the history. Read-only: it never contacts a server.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { AesGcmCodec } from '../codec/aes-gcm';
import { dataConverterFor } from '../codec/engine';
import type { CodecKeyring } from '../codec/keys';
import { bundleWorkflows } from '../worker';
import { HISTORY_BUNDLE_FORMAT, type HistoryBundle } from './export';
import { displayPath } from './load';
import { replayPool } from './replay-pool';
import { checkReplayThreads, defaultReplayThreads } from './replay-thread-count';
import { ReplayThreads } from './replay-threads';
import { skipExecutionWatchdogOnThisThread, skipStackTracesOnThisThread } from './replay-sandbox';

export interface ReplayInput {
  /** What to call it in a report: the file, and the workflow inside a bundle. */
  name: string;
  workflowId: string;
  /** Proto JSON. */
  history: { events: Record<string, unknown>[] };
}

export interface Divergence {
  /** The event the nondeterminism error concerns (its id in the history), when it could be found. */
  eventId?: number;
  eventType?: string;
  /** What the event names: an activity type, a child workflow type, a timer id. */
  detail?: string;
  /** The last event of the history prefix that still replays clean. */
  cleanThrough?: number;
}

export interface ReplayOutcome {
  name: string;
  workflowId: string;
  events: number;
  /** Where it was replayed: 0 the calling thread, 1 and up the replay threads. */
  thread: number;
  ok: boolean;
  /** `nondeterminism` when the code no longer matches; `error` when the replay failed otherwise. */
  failure?: 'nondeterminism' | 'error';
  /** The SDK's or core's message, unwrapped. */
  message?: string;
  divergence?: Divergence;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${displayPath(file)}: not a JSON history: ${(error as Error).message}`, { cause: error });
  }
}

function isBundle(value: unknown): value is HistoryBundle {
  return (
    typeof value === 'object' && value !== null && (value as { format?: unknown }).format === HISTORY_BUNDLE_FORMAT
  );
}

function isHistory(value: unknown): value is ReplayInput['history'] {
  return typeof value === 'object' && value !== null && Array.isArray((value as { events?: unknown }).events);
}

/** Files and directories (their `*.json`, sorted) to replay inputs; bundles expand into one input per workflow. */
export function loadHistories(paths: string[]): ReplayInput[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) {
      files.push(
        ...readdirSync(p)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => path.join(p, f)),
      );
    } else files.push(p);
  }
  const inputs: ReplayInput[] = [];
  for (const file of files) {
    const value = readJson(file);
    const shown = displayPath(file);
    if (isBundle(value)) {
      for (const workflow of value.workflows) {
        inputs.push({
          name: `${shown}#${workflow.workflowId}`,
          workflowId: workflow.workflowId,
          history: workflow.history as ReplayInput['history'],
        });
      }
    } else if (isHistory(value)) {
      inputs.push({ name: shown, workflowId: path.basename(file, '.json'), history: value });
    } else {
      throw new Error(
        `${shown}: expected a history ({"events": [...]}, as temporal workflow show --output json prints) or an incident export bundle`,
      );
    }
  }
  return inputs;
}

/** The message core put inside the SDK's wrapper ("[TMPRL1100] Nondeterminism error: ..."), else the whole one. */
export function innerMessage(message: string): string {
  const match = /message: "((?:[^"\\]|\\.)*)"/.exec(message);
  return match ? match[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\') : message;
}

const TYPE_PREFIX = 'EVENT_TYPE_';

function eventType(event: Record<string, unknown>): string {
  return String(event.eventType ?? '').replace(TYPE_PREFIX, '');
}

/** The activity type a local activity's marker records (its `data` detail: JSON, base64 in proto JSON). */
function localActivityType(marker: Record<string, unknown>): string | undefined {
  const data = (marker.details as Record<string, { payloads?: { data?: string }[] }> | undefined)?.data;
  const encoded = data?.payloads?.[0]?.data;
  if (typeof encoded !== 'string') return undefined;
  try {
    const type = (JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { activity_type?: unknown })
      .activity_type;
    return typeof type === 'string' ? `local activity ${type}` : undefined;
  } catch {
    return undefined;
  }
}

/** What an event names, for a report: the activity type, child workflow type, timer id or signal name. */
function eventDetail(event: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventAttributes') || typeof value !== 'object' || value === null) continue;
    const a = value as Record<string, unknown>;
    const name =
      (a.activityType as { name?: string } | undefined)?.name ??
      (a.workflowType as { name?: string } | undefined)?.name;
    if (name) return name;
    if (typeof a.timerId === 'string') return `timer ${a.timerId}`;
    if (typeof a.signalName === 'string') return `signal ${a.signalName}`;
    if (a.markerName === 'core_local_activity') return localActivityType(a) ?? 'local activity';
    if (typeof a.markerName === 'string') return `marker ${a.markerName}`;
  }
  return undefined;
}

/** Events a workflow task's commands produce: they follow WORKFLOW_TASK_COMPLETED in the history. */
const COMMAND_EVENTS = new Set([
  'ACTIVITY_TASK_SCHEDULED',
  'ACTIVITY_TASK_CANCEL_REQUESTED',
  'TIMER_STARTED',
  'TIMER_CANCELED',
  'START_CHILD_WORKFLOW_EXECUTION_INITIATED',
  'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
  'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
  'MARKER_RECORDED',
  'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  'WORKFLOW_PROPERTIES_MODIFIED',
  'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
  'WORKFLOW_EXECUTION_UPDATE_COMPLETED',
  'WORKFLOW_EXECUTION_COMPLETED',
  'WORKFLOW_EXECUTION_FAILED',
  'WORKFLOW_EXECUTION_CANCELED',
  'WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
]);

/**
 * Where a history can be cut and still read like a running workflow's: after a completed workflow task and the events
 * its commands produced. Replaying such a prefix checks every command up to it and nothing after.
 */
function cutPoints(events: Record<string, unknown>[]): number[] {
  const cuts: number[] = [];
  for (let index = 0; index < events.length; index++) {
    if (eventType(events[index]!) !== 'WORKFLOW_TASK_COMPLETED') continue;
    let end = index + 1;
    while (end < events.length && COMMAND_EVENTS.has(eventType(events[end]!))) end++;
    cuts.push(end);
  }
  if (cuts.at(-1) !== events.length) cuts.push(events.length);
  return cuts;
}

/**
 * Finds the first workflow task whose commands no longer match: every prefix cut at a task boundary is replayed in one
 * batch (one replay worker), the shortest that fails bounds the divergence; then, within that task's events, the one
 * the error message names.
 */
async function locateDivergence(
  bundle: WorkflowBundle,
  input: ReplayInput,
  message: string,
  dataConverter: DataConverter | undefined,
): Promise<Divergence> {
  const events = input.history.events;
  const cuts = cutPoints(events);
  const failing = new Set<number>();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'incident-engine-locate', ...(dataConverter ? { dataConverter } : {}) },
    cuts.map((cut, index) => ({
      workflowId: `${input.workflowId}#prefix${index}`,
      history: { ...input.history, events: events.slice(0, cut) },
    })),
  )) {
    if (result.error instanceof DeterminismViolationError)
      failing.add(Number(result.workflowId.slice(result.workflowId.lastIndexOf('#prefix') + 7)));
  }
  let lo = cuts.findIndex((_, index) => failing.has(index));
  if (lo < 0) lo = cuts.length - 1;
  const from = lo === 0 ? 0 : cuts[lo - 1]!;
  const to = cuts[lo] ?? events.length;
  const group = events.slice(from, to);
  const marker = /of recorded marker '([^']+)'/.exec(message)?.[1];
  const named =
    /of scheduled event '([^']+)'/.exec(message)?.[1] ??
    (marker !== undefined ? `local activity ${marker}` : /event '([^']+)'/.exec(message)?.[1]);
  const hit =
    (named !== undefined ? group.find((e) => eventDetail(e) === named) : undefined) ??
    group.find(
      (e) => !['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'].includes(eventType(e)),
    ) ??
    group.at(-1);
  const divergence: Divergence = {};
  if (from > 0) divergence.cleanThrough = Number(events[from - 1]!.eventId ?? from);
  if (hit) {
    divergence.eventId = Number(hit.eventId);
    divergence.eventType = eventType(hit);
    const detail = eventDetail(hit);
    if (detail) divergence.detail = detail;
  }
  return divergence;
}

export interface ReplayOptions {
  /** A prebuilt bundle of the workflow code; bundled once otherwise. */
  workflowBundle?: WorkflowBundle;
  /** Skip locating the diverging event (faster; the message is still reported). */
  locate?: boolean;
  /**
   * Threads replaying side by side, the calling one included (src/drills/replay-pool.ts); default one per core, at
   * most DEFAULT_MAX_REPLAY_THREADS. A batch of fewer than MIN_HISTORIES_FOR_THREADS histories replays in the calling
   * thread.
   */
  threads?: number;
  /**
   * Replay threads already started (`startReplayThreads`), used for any batch instead of starting new ones, and left
   * running for the caller's next batch; `threads` is then ignored.
   */
  replayThreads?: ReplayThreads;
  /** The engine's codec keys, for histories with encrypted payloads (plaintext ones replay either way). */
  keyring?: CodecKeyring;
}

/** Below this many histories a replay thread's start costs more than it saves: they replay in the calling thread. */
export const MIN_HISTORIES_FOR_THREADS = 40;

/**
 * The replay threads for a batch of `histories` on `threads` threads, the calling one included (default
 * defaultReplayThreads()): none below MIN_HISTORIES_FOR_THREADS. Started now, ready a second or two later; the caller
 * closes them.
 */
export function startReplayThreads(histories: number, threads = defaultReplayThreads()): ReplayThreads | undefined {
  const count = histories < MIN_HISTORIES_FOR_THREADS ? 0 : checkReplayThreads(threads) - 1;
  return count > 0 ? new ReplayThreads(count) : undefined;
}

/** Replays every input with one bundle; the outcomes are in input order. */
export async function replayHistories(inputs: ReplayInput[], options: ReplayOptions = {}): Promise<ReplayOutcome[]> {
  const bundle = options.workflowBundle ?? (await bundleWorkflows());
  skipStackTracesOnThisThread();
  skipExecutionWatchdogOnThisThread();
  // Replay ids must be unique within one batch; the input index keeps them apart.
  const ids = inputs.map((input, index) => `${input.workflowId}#${index}`);
  const threads = options.replayThreads ?? startReplayThreads(inputs.length, options.threads);
  const results = await replayPool(
    bundle,
    inputs.map((input, index) => ({ replayId: ids[index]!, history: input.history })),
    options.keyring,
    threads,
  ).finally(() => (threads === options.replayThreads ? undefined : threads?.close()));
  const byId = new Map(results.map((result) => [result.replayId, result]));
  const dataConverter = options.keyring ? dataConverterFor(new AesGcmCodec(options.keyring)) : undefined;
  const outcomes: ReplayOutcome[] = [];
  for (const [index, input] of inputs.entries()) {
    const result = byId.get(ids[index]!);
    if (!result) throw new Error(`${input.name}: the replay reported nothing for it`);
    if (result.invalid !== undefined) throw new Error(`${input.name}: not a valid history: ${result.invalid}`);
    const base = {
      name: input.name,
      workflowId: input.workflowId,
      events: input.history.events.length,
      thread: result.thread,
    };
    if (result.message === undefined) {
      outcomes.push({ ...base, ok: true });
      continue;
    }
    const message = innerMessage(result.message);
    const nondeterminism = result.nondeterminism === true;
    const outcome: ReplayOutcome = {
      ...base,
      ok: false,
      failure: nondeterminism ? 'nondeterminism' : 'error',
      message,
    };
    if (nondeterminism && options.locate !== false)
      outcome.divergence = await locateDivergence(bundle, input, message, dataConverter);
    outcomes.push(outcome);
  }
  return outcomes;
}

export function formatReplay(outcomes: ReplayOutcome[]): string {
  const lines = outcomes.map((o) => {
    if (o.ok) return `ok        ${o.name} (${o.events} events)`;
    const d = o.divergence;
    const where =
      d?.eventId !== undefined ? ` at event ${d.eventId} ${d.eventType}${d.detail ? ` (${d.detail})` : ''}` : '';
    const clean = d?.cleanThrough !== undefined ? `; replays clean through event ${d.cleanThrough}` : '';
    const head = o.failure === 'nondeterminism' ? 'DIVERGES' : 'FAILED  ';
    return `${head}  ${o.name} (${o.events} events)${where}${clean}\n          ${o.message}`;
  });
  const bad = outcomes.filter((o) => !o.ok).length;
  lines.push(
    bad === 0
      ? `${outcomes.length} history(ies) replay clean`
      : `${bad} of ${outcomes.length} history(ies) do not replay against the current code`,
  );
  return `${lines.join('\n')}\n`;
}
