// Summarizes a V8 .cpuprofile (from BENCH_CPU_PROF=1): self time by function and by where the code lives (the
// workflow bundle's own code, zod, the Temporal SDK, protobuf, Node internals, GC, idle). Usage:
//   npx tsx bench/profile-summary.ts bench/results/profiles/<section>/<file>.cpuprofile [top] [bundle-modules.json]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  total_ms: number;
  busy_ms: number;
  byArea: Record<string, number>;
  topFunctions: { fn: string; where: string; self_ms: number; share: number }[];
  /** Inclusive time (self and callees) of the frames that say what the time was for, share of busy time. */
  inclusive: { fn: string; where: string; ms: number; share: number }[];
}

/** Start lines of the modules in a webpack workflow bundle (its per-module marker lines), to attribute bundle frames. */
export type BundleModules = { line: number; module: string }[];

export function bundleModules(code: string): BundleModules {
  const out: BundleModules = [];
  code.split('\n').forEach((text, i) => {
    const m = /^\/\*\*\*\/ "([^"]+)"/.exec(text);
    if (m) out.push({ line: i + 1, module: m[1]! });
  });
  return out;
}

function moduleAt(modules: BundleModules, line: number): string | undefined {
  let lo = 0;
  let hi = modules.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (modules[mid]!.line <= line) {
      found = modules[mid]!.module;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function bundleArea(module: string | undefined): string {
  if (!module) return 'workflow bundle: runtime glue';
  if (module.includes('node_modules/zod/')) return 'workflow bundle: zod';
  if (module.startsWith('./src/schemas/')) return 'workflow bundle: our schemas (src/schemas)';
  if (module.startsWith('./workflows/')) return 'workflow bundle: our workflow code (workflows/)';
  if (module.includes('@temporalio/workflow')) return 'workflow bundle: Temporal SDK workflow runtime';
  if (module.includes('@temporalio/common') || module.includes('@temporalio/proto'))
    return 'workflow bundle: Temporal SDK common';
  return `workflow bundle: ${module}`;
}

/** Where a frame's code lives. */
export function areaOf(url: string, fn: string, line = 0, modules?: BundleModules): string {
  if (modules && /bundle\.js$/.test(url)) return bundleArea(moduleAt(modules, line + 1));
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (!url) return 'native/builtin';
  if (url.includes('/zod/')) return 'zod (validation)';
  if (url.includes('@temporalio/workflow') || url.includes('/workflow/lib/')) return 'Temporal SDK: workflow runtime';
  if (url.includes('@temporalio/worker')) return 'Temporal SDK: worker (Node side)';
  if (url.includes('@temporalio/common') || url.includes('@temporalio/proto')) return 'Temporal SDK: common/proto';
  if (url.includes('protobufjs') || url.includes('long/')) return 'protobuf (de)serialization';
  if (url.includes('@temporalio/core-bridge')) return 'Temporal SDK: core bridge';
  if (url.startsWith('node:') || url.startsWith('internal/')) return 'Node internals';
  if (url.includes('/workflows/') || url.includes('/src/schemas/')) return 'our workflow code';
  if (url.includes('/activities/')) return 'our activities';
  if (url.includes('workflow-bundle') || url.includes('bundle')) return 'workflow bundle (other)';
  if (url.includes('node_modules'))
    return `other package (${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'})`;
  return 'other';
}

export function summarizeProfile(file: string, top = 25, modules?: BundleModules): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  const byArea: Record<string, number> = {};
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const area = areaOf(url, fn, lineNumber, modules);
    if (area === 'idle') idle += us;
    byArea[area] = (byArea[area] ?? 0) + us / 1000;
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/work\/main\//, '')}:${lineNumber + 1}`
      : '';
    const key = `${fn}@${where}`;
    const entry = byFn.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFn.set(key, entry);
  }
  const busy = total - idle / 1000;
  const rounded = Object.fromEntries(
    Object.entries(byArea)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Math.round(v)]),
  );
  const topFunctions = [...byFn.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      fn: e.fn,
      where: e.where,
      self_ms: Math.round(e.us / 1000),
      share: Math.round((e.us / 1000 / busy) * 1000) / 1000,
    }));
  // Inclusive time per frame, counted once per stack (recursion-safe).
  const children = new Map<number, number[]>(profile.nodes.map((n) => [n.id, n.children ?? []]));
  const inclusiveUs = new Map<string, { fn: string; where: string; us: number }>();
  const keyOf = (node: Node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/work\/main\//, '')}:${lineNumber + 1}`
      : '';
    return { key: `${functionName || '(anonymous)'}@${where}`, fn: functionName || '(anonymous)', where };
  };
  const walk = (id: number, stack: Set<string>): number => {
    const node = byId.get(id)!;
    const { key, fn, where } = keyOf(node);
    let us = selfUs.get(id) ?? 0;
    const nested = stack.has(key);
    if (!nested) stack.add(key);
    for (const child of children.get(id) ?? []) us += walk(child, stack);
    if (!nested) {
      stack.delete(key);
      const entry = inclusiveUs.get(key) ?? { fn, where, us: 0 };
      entry.us += us;
      inclusiveUs.set(key, entry);
    }
    return us;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  const INTERESTING =
    /^(createWorkflow|importWorkflows|initRuntime|activate|concludeActivation|handleActivation|__webpack_require__|\(garbage collector\)|runInContext|__TEMPORAL_CALL_INTO_SCOPE|getActivator|extractSinkCalls|dispose|incidentWorkflow|runSteps|incidentRegistryWorkflow)$/;
  const inclusive = [...inclusiveUs.values()]
    .filter((e) => INTERESTING.test(e.fn))
    .sort((a, b) => b.us - a.us)
    .slice(0, 20)
    .map((e) => ({
      fn: e.fn,
      where: e.where,
      ms: Math.round(e.us / 1000),
      share: Math.round((e.us / 1000 / busy) * 1000) / 1000,
    }));
  return { total_ms: Math.round(total), busy_ms: Math.round(busy), byArea: rounded, topFunctions, inclusive };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const modulesFile = process.argv[4];
  const modules = modulesFile ? (JSON.parse(readFileSync(modulesFile, 'utf8')) as BundleModules) : undefined;
  console.log(JSON.stringify(summarizeProfile(file, Number(process.argv[3] ?? 25), modules), null, 2));
}
