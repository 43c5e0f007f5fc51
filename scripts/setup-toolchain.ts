// `npm run setup`: installs the pinned Temporal binaries into the per-user cache (see src/temporal/toolchain.ts).
// `--quiet` prints nothing when everything is already installed. It must never start a server or touch the clone.
import { ensureToolchain } from '../src/temporal/toolchain';

const quiet = process.argv.includes('--quiet');
const started = Date.now();
try {
  const paths = await ensureToolchain({ quiet });
  if (!quiet) {
    process.stdout.write(`temporal CLI:         ${paths.temporalCli}\n`);
    process.stdout.write(`time-skipping server: ${paths.testServer}\n`);
    process.stdout.write(`toolchain ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
