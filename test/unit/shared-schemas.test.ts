// Every schema module that workflow code reaches must be in workflows/shared-schemas.ts: one left out would be shared
// anyway (it is loaded while the shared modules load) and deep-frozen by the SDK, and zod schemas break when frozen.
// The import graph is read from the source, as the bundler would follow it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_SCHEMA_MODULES } from '../../workflows/shared-schemas';
import { SHARED_WORKFLOW_MODULES } from '../../src/worker';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Static imports and re-exports, leaving out `import type` (erased); `import { type A }` counts, which can only
// make the list longer than needed.
const IMPORT = /^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gm;

function resolveModule(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((file) => existsSync(file));
}

/** Every module the given files reach through value imports, themselves included. */
function reachableFrom(files: string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...files];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolveModule(file, match[1]!);
      if (target) pending.push(target);
    }
  }
  return seen;
}

function reachableSchemaModules(): string[] {
  const workflowFiles = ['workflows', 'workflows/phases'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.ts') && f !== 'shared-schemas.ts')
      .map((f) => path.join(ROOT, dir, f)),
  );
  const seen = reachableFrom(workflowFiles);
  const schemasDir = path.join(ROOT, 'domain') + path.sep;
  return [...seen]
    .filter((file) => file.startsWith(schemasDir))
    .map((file) =>
      path
        .relative(schemasDir, file)
        .replace(/\.ts$/, '')
        .replace(/^actions$/, 'actions/index'),
    )
    .sort();
}

describe('workflows/shared-schemas.ts', () => {
  it('lists every schema module workflow code reaches', () => {
    const listed = Object.keys(SHARED_SCHEMA_MODULES).filter((name) => !name.startsWith('zod/'));
    const reached = reachableSchemaModules();
    expect(reached).toContain('messages');
    expect(reached).toContain('actions/connectors');
    expect(listed.sort()).toEqual(reached);
  });

  it('leaves no workflow module building schemas of its own (each workflow instance would build them again)', () => {
    const workflowModules = (dir: string): string[] =>
      readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) return workflowModules(rel);
        return entry.name.endsWith('.ts') && rel !== path.join('workflows', 'shared-schemas.ts') ? [rel] : [];
      });
    // zod imported as a value: the module builds a schema when it is evaluated, once per workflow instance.
    const buildsSchemas = workflowModules('workflows').filter((file) =>
      /^import\s+(?!type\s)[^;]*from\s+'zod(\/[^']*)?'/m.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(buildsSchemas).toEqual([]);
  });

  it('reaches no workflow module: those keep per-workflow state (the patches a phase type was born with)', () => {
    const seen = reachableFrom([path.join(ROOT, 'workflows/shared-schemas.ts')]);
    const workflowModules = [...seen]
      .map((file) => path.relative(ROOT, file))
      .filter(
        (file) => file.startsWith(`workflows${path.sep}`) && file !== path.join('workflows', 'shared-schemas.ts'),
      );
    expect(seen.size).toBeGreaterThan(5);
    expect(workflowModules).toEqual([]);
  });

  it('is what the workflow bundle preloads', () => {
    expect(SHARED_WORKFLOW_MODULES).toEqual([path.join(ROOT, 'workflows/shared-schemas.ts')]);
  });
});
