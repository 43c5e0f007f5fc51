// Summarizes a sampling heap profile written by the bench (BENCH_HEAP_PROFILE=1: bench/results/profiles/*.heap.json):
// for each JS thread, the live bytes by allocating function (self) and by the frames of our code and packages on the
// allocating stack (inclusive). Usage: npx tsx bench/heap-summary.ts <file> [top]
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const where = (url: string, line: number): string =>
  url
    ? `${url
        .replace(/^.*node_modules\//, '')
        .replace(/^.*\/work\/main\//, '')
        .replace(/^webpack:\/\/[^/]*\//, '')}:${line + 1}`
    : '';

export function summarizeHeap(file: string, top = 20) {
  const threads = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { head: HeapNode }>;
  const out: Record<
    string,
    { total_mb: number; self: { fn: string; mb: number }[]; inclusive: { fn: string; mb: number }[] }
  > = {};
  for (const [thread, profile] of Object.entries(threads)) {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    let total = 0;
    const walk = (node: HeapNode, stack: string[]): number => {
      const key = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame.url, node.callFrame.lineNumber)}`;
      let size = node.selfSize;
      for (const child of node.children) size += walk(child, [...stack, key]);
      if (node.selfSize) self.set(key, (self.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
      // Inclusive by frame, counted once per stack (recursion-safe).
      if (!stack.includes(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + size);
      return size;
    };
    walk(profile.head, []);
    const list = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([fn, bytes]) => ({ fn, mb: Math.round((bytes / 1048576) * 10) / 10 }));
    out[thread] = { total_mb: Math.round((total / 1048576) * 10) / 10, self: list(self), inclusive: list(inclusive) };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/heap-summary.ts <file.heap.json> [top]');
    process.exit(2);
  }
  console.log(JSON.stringify(summarizeHeap(file, Number(process.argv[3] ?? 20)), null, 2));
}
