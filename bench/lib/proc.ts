// CPU accounting from /proc: seconds of CPU used by the dev server, the worker process and this (client) process
// during a measurement, and by everything else on the machine (other engineers' tests, for instance). This is how the
// report splits "ours" (worker, client) from "Temporal's" (server) and notes outside load. Linux only; elsewhere the
// figures are absent.
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux this runs on (getconf CLK_TCK).

/** utime + stime of a process and its reaped children, in seconds; undefined when unreadable. */
export function processCpuSeconds(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine since boot. */
export function systemCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((s, v) => s + v, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  t: number;
  server?: number;
  worker?: number;
  client?: number;
  system?: { busy: number; total: number };
}

export interface CpuUsage {
  /** Wall-clock seconds between the snapshots. */
  wall_s: number;
  /** CPU seconds used by each, and by everything else on the machine. */
  server_s?: number;
  worker_s?: number;
  client_s?: number;
  other_s?: number;
  /** Busy share of all cores over the interval (1 = every core busy all the time). */
  machine_busy?: number;
}

export class CpuMeter {
  constructor(private readonly pids: () => { server?: number; worker?: number }) {}

  snapshot(): CpuSnapshot {
    const { server, worker } = this.pids();
    return {
      t: Date.now(),
      ...(server ? { server: processCpuSeconds(server) } : {}),
      ...(worker ? { worker: processCpuSeconds(worker) } : {}),
      client: processCpuSeconds('self'),
      system: systemCpuSeconds(),
    };
  }

  static diff(a: CpuSnapshot, b: CpuSnapshot): CpuUsage {
    const d = (x?: number, y?: number): number | undefined =>
      x !== undefined && y !== undefined ? round2(y - x) : undefined;
    const wall = (b.t - a.t) / 1000;
    const server = d(a.server, b.server);
    const worker = d(a.worker, b.worker);
    const client = d(a.client, b.client);
    const busy = a.system && b.system ? b.system.busy - a.system.busy : undefined;
    const total = a.system && b.system ? b.system.total - a.system.total : undefined;
    const ours = (server ?? 0) + (worker ?? 0) + (client ?? 0);
    return {
      wall_s: round2(wall),
      ...(server !== undefined ? { server_s: server } : {}),
      ...(worker !== undefined ? { worker_s: worker } : {}),
      ...(client !== undefined ? { client_s: client } : {}),
      ...(busy !== undefined ? { other_s: round2(Math.max(0, busy - ours)) } : {}),
      ...(busy !== undefined && total ? { machine_busy: round2(busy / total) } : {}),
    };
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function allProcessCpu(): Map<number, number> {
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return out;
  }
  for (const name of names) {
    const cpu = processCpuSeconds(Number(name));
    if (cpu !== undefined) out.set(Number(name), cpu);
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120);
  } catch {
    return '';
  }
}

/**
 * The processes that are not ours and used CPU over `intervalMs`, busiest first, for the report's note on outside
 * load (other engineers' tests, for instance). `ours` are excluded by pid and by descent.
 */
export async function otherBusyProcesses(
  ours: number[],
  intervalMs = 2_000,
  limit = 5,
): Promise<{ pid: number; cpu_share: number; command: string }[]> {
  const before = allProcessCpu();
  await new Promise((r) => setTimeout(r, intervalMs));
  const after = allProcessCpu();
  const out: { pid: number; cpu_share: number; command: string }[] = [];
  for (const [pid, cpu] of after) {
    if (ours.includes(pid)) continue;
    const used = cpu - (before.get(pid) ?? cpu);
    if (used <= 0.05) continue;
    const command = commandOf(pid);
    if (!command) continue;
    out.push({ pid, cpu_share: Math.round((used / (intervalMs / 1000)) * 100) / 100, command });
  }
  return out.sort((a, b) => b.cpu_share - a.cpu_share).slice(0, limit);
}

export const loadAverage = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);

/** CPU seconds per thread of a process, with the thread's name (comm). */
export function threadCpu(pid: number): Map<number, { comm: string; cpu: number }> {
  const out = new Map<number, { comm: string; cpu: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { comm, cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
    } catch {
      // thread gone
    }
  }
  return out;
}

/**
 * CPU seconds per kind of thread in a Node Temporal worker between two threadCpu() snapshots: the main JS thread
 * (SDK worker loop, activities), JS worker threads (the workflow sandbox runs in one: reuseV8Context), the Rust core
 * (tokio threads), and V8's platform threads (GC, compiler).
 */
export function workerThreadBreakdown(
  pid: number,
  a: Map<number, { comm: string; cpu: number }>,
  b: Map<number, { comm: string; cpu: number }>,
): Record<string, number> {
  const tokio = [...b.entries()].filter(([, t]) => !t.comm.startsWith('node')).map(([tid]) => tid);
  const firstCore = Math.min(...tokio, Number.POSITIVE_INFINITY);
  const out: Record<string, number> = {};
  for (const [tid, t] of b) {
    const used = t.cpu - (a.get(tid)?.cpu ?? 0);
    if (used <= 0) continue;
    let kind: string;
    if (tid === pid) kind = 'main JS thread (SDK worker loop, activities)';
    else if (t.comm.startsWith('tokio') || t.comm.startsWith('workflow-proces') || t.comm.startsWith('temporal'))
      kind = 'Rust core SDK threads';
    else if (t.comm === 'node' && tid > firstCore) kind = 'JS worker thread (workflow sandbox)';
    else if (t.comm === 'node') kind = 'V8 platform threads (GC, compiler)';
    else kind = `other threads (${t.comm})`;
    out[kind] = Math.round(((out[kind] ?? 0) + used) * 100) / 100;
  }
  return out;
}
