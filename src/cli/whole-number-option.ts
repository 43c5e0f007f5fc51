// Whole-number options of the CLI (`--limit`, `--interval`, `--threads`): parsed by commander and refused before the
// command runs (exit 2, with the value and the range), so no command goes on with NaN or an unbounded count.
import { InvalidArgumentError } from 'commander';

export function wholeNumberOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}
