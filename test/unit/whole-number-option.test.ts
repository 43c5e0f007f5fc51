// The CLI's whole-number options take digits within their range only; anything else is refused before the command
// runs, with the usage exit status, naming the option, the value and the range.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { wholeNumberOption } from '../../src/cli/whole-number-option';
import { runCli } from '../helpers/run-cli';

describe('a whole-number option', () => {
  const limit = wholeNumberOption(1, 1_000);

  it('takes digits within its range', () => {
    expect(limit('1')).toBe(1);
    expect(limit('50')).toBe(50);
    expect(limit('1000')).toBe(1_000);
  });

  it('refuses anything else, saying what it expected', () => {
    for (const bad of ['0', '1001', 'abc', '', '1.5', '-1', ' 5', '1e3', '0x10', '9999999999']) {
      expect(() => limit(bad), bad).toThrow(InvalidArgumentError);
      expect(() => limit(bad), bad).toThrow('expected a whole number from 1 to 1000');
    }
  });
});

describe('the CLI with a bad whole number', () => {
  it.each([
    [
      ['list', '--limit', 'abc'],
      "option '--limit <n>' argument 'abc' is invalid. expected a whole number from 1 to 1000",
    ],
    [
      ['watch', 'INC-2026-001', '--interval', '5'],
      "option '--interval <ms>' argument '5' is invalid. expected a whole number from 200 to 60000",
    ],
  ])('%j exits 2 naming the option, the value and the range', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });
});
