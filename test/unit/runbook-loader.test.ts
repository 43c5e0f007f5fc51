// The runbook loader's promise: every mistake is reported with file:line:column, the field, what was expected and
// what was found; nothing half-valid is returned. Also `runbook validate` over real files, as operators run it.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compileRunbook, loadRunbooks } from '../../src/runbooks/load';
import { refusalOf } from '../helpers/refusal';
import { tempDir } from '../helpers/temp-dirs';

const FILE = 'runbooks/example.yaml';

/** A small valid runbook; each case changes one line of it. Line numbers below refer to this text. */
const VALID = `id: example
version: 1
title: Example
category: security
eventTypes: [unauthorized_access]
phases:
  detect:
    steps:
      - id: page
        action: notify.send
        with:
          message: '\${incident.id} opened: \${incident.title}'
  contain:
    steps:
      - id: preserve
        action: evidence.snapshot
        timeout: 10m
        with:
          paths: [logs]
  eradicate:
    advance: manual
  recover: {}
  post-incident:
    advance: manual
`;

const errorOf = (text: string): string => refusalOf(() => compileRunbook(text, FILE), 'the runbook');

describe('runbook loader errors', () => {
  it('compiles the valid runbook, pinning its content hash', () => {
    const plan = compileRunbook(VALID, FILE);
    expect(plan.phases.contain.steps[0]).toMatchObject({
      id: 'preserve',
      action: 'evidence.snapshot',
      timeoutMs: 600_000,
    });
    expect(plan.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(compileRunbook(VALID.replace('Example', 'Example 2'), FILE).contentHash).not.toBe(plan.contentHash);
  });

  it('compiles autoResolve and refuses a quiet period that is no duration or out of 1m-48h', () => {
    const withQuiet = (quietFor: string) => VALID.replace('phases:', `autoResolve:\n  quietFor: ${quietFor}\nphases:`);
    expect(compileRunbook(withQuiet('30m'), FILE).autoResolve).toEqual({ quietForMs: 1_800_000 });
    expect(compileRunbook(VALID, FILE).autoResolve).toBeUndefined();
    expect(errorOf(withQuiet('soon'))).toBe(
      'runbooks/example.yaml:7:13: autoResolve.quietFor: expected a duration like "90s", "15m", "1h30m" or "7d", found "soon"',
    );
    expect(errorOf(withQuiet('10s'))).toMatch(/autoResolve\.quietFor: expected autoResolve\.quietFor of at least 1m$/);
    expect(errorOf(withQuiet('3d'))).toMatch(/autoResolve\.quietFor: expected autoResolve\.quietFor of at most 48h$/);
    expect(errorOf(VALID.replace('phases:', 'autoResolve:\n  after: 30m\nphases:'))).toMatch(/autoResolve/);
  });

  it('names an unknown action and lists the known ones', () => {
    expect(errorOf(VALID.replace('action: evidence.snapshot', 'action: evidence.snapshoot'))).toMatch(
      /^runbooks\/example\.yaml:16:17: phases\.contain\.steps\[0\]\.action: unknown action "evidence\.snapshoot"; expected one of: .*evidence\.snapshot/,
    );
  });

  it('checks an action parameter against the action schema', () => {
    expect(errorOf(VALID.replace('paths: [logs]', 'paths: logs'))).toBe(
      'runbooks/example.yaml:19:18: phases.contain.steps[0].with.paths: Invalid input: expected array, received string',
    );
  });

  it('refuses a duration like "2 hrs" and says what a duration looks like', () => {
    expect(errorOf(VALID.replace('timeout: 10m', 'timeout: 2 hrs'))).toBe(
      'runbooks/example.yaml:17:18: phases.contain.steps[0].timeout: expected a duration like "90s", "15m", "1h30m" or "7d", found "2 hrs"',
    );
  });

  it('reports a missing phase where the phases are', () => {
    expect(errorOf(VALID.replace('  recover: {}\n', ''))).toBe(
      'runbooks/example.yaml:7:3: phases.recover: required field is missing (expected object)',
    );
  });

  it('refuses a duplicate step id, naming the phase that used it first', () => {
    expect(errorOf(VALID.replace('- id: preserve', '- id: page'))).toBe(
      'runbooks/example.yaml:15:13: phases.contain.steps[0].id: duplicate step id "page" (already used in phase detect)',
    );
  });

  it('refuses a runbook too large for an incident to pin and answer with: its steps, and its compiled size', () => {
    const steps = (n: number) =>
      Array.from(
        { length: n },
        (_, i) => `      - id: tell-${i}\n        action: notify.send\n        with: { message: hi }\n`,
      );
    const withRecover = (n: number) => VALID.replace('  recover: {}\n', `  recover:\n    steps:\n${steps(n).join('')}`);
    // The valid runbook has two steps besides these.
    expect(compileRunbook(withRecover(98), FILE).phases.recover.steps).toHaveLength(98);
    expect(errorOf(withRecover(99))).toBe(
      "runbooks/example.yaml:7:3: phases: expected at most 100 steps in all phases together, found 101 (every step is in the incident's view, which answers every update)",
    );
    const long = VALID.replace(
      "message: '${incident.id} opened: ${incident.title}'",
      `message: '${'x'.repeat(300_000)}'`,
    );
    expect(errorOf(long)).toMatch(
      /^runbooks\/example\.yaml: the compiled runbook is 29\d KiB; expected at most 256 KiB \(an incident pins it/,
    );
  });

  it('refuses a template path that cannot resolve', () => {
    expect(errorOf(VALID.replace('${incident.title}', '${incident.titel}'))).toMatch(
      /^runbooks\/example\.yaml:12:20: phases\.detect\.steps\[0\]\.with\.message: template path "\$\{incident\.titel\}" cannot resolve; expected one of incident\.id, incident\.title/,
    );
  });

  it('reports the first YAML syntax error, not the cascade after it', () => {
    const message = errorOf(VALID.replace('eventTypes: [unauthorized_access]', 'eventTypes: [unauthorized_access'));
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^runbooks\/example\.yaml:\d+:\d+: YAML syntax: /);
  });

  it('refuses an unknown field instead of ignoring it', () => {
    expect(errorOf(VALID.replace('timeout: 10m', 'timeout: 10m\n        retries: 3'))).toMatch(
      /^runbooks\/example\.yaml:15:\d+: phases\.contain\.steps\[0\]: Unrecognized key: "retries"/,
    );
  });

  it('refuses two runbooks with one id, naming both files', () => {
    const dir = tempDir('runbooks');
    writeFileSync(path.join(dir, 'a.yaml'), VALID);
    writeFileSync(path.join(dir, 'b.yaml'), VALID);
    expect(() => loadRunbooks(dir)).toThrow(
      `${path.join(dir, 'b.yaml')}: runbook id "example" is already used by ${path.join(dir, 'a.yaml')}`,
    );
  });
});

describe('runbook validate (CLI)', () => {
  const run = promisify(execFile);
  const bin = path.resolve(import.meta.dirname, '../../bin/incident-engine.mjs');

  it('reports every invalid file with its errors and exits 1; valid files pass', async () => {
    const dir = tempDir('runbooks');
    const good = path.join(dir, 'good.yaml');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(good, VALID);
    writeFileSync(bad, VALID.replace('timeout: 10m', 'timeout: 2 hrs'));
    const failure = await run(process.execPath, [bin, 'runbook', 'validate', good, bad]).catch((e: unknown) => e);
    const { code, stdout } = failure as { code: number; stdout: string };
    expect(code).toBe(1);
    expect(stdout).toContain(`ok      ${good} (example v1, 2 steps)`);
    expect(stdout).toContain(`invalid ${bad}\n  ${bad}:17:18: phases.contain.steps[0].timeout: expected a duration`);

    const json = await run(process.execPath, [bin, '--json', 'runbook', 'validate', good]);
    expect(JSON.parse(json.stdout)).toEqual([{ file: good, ok: true, id: 'example', version: 1, steps: 2 }]);
  }, 60_000);
});
