// First step of `npm start` and `npm test`, so that those two commands are all the set-up a fresh clone needs:
// installs the npm dependencies when they are missing or older than package-lock.json, then the pinned Temporal
// toolchain (scripts/setup-toolchain.ts). Plain Node with built-ins only: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const lockfile = path.join(root, 'package-lock.json');
// npm writes this hidden lockfile on every install; npm itself trusts it while it is newer than package-lock.json.
const installed = path.join(root, 'node_modules', '.package-lock.json');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`bootstrap: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`bootstrap: \`${[command, ...args].join(' ')}\` exited with ${result.status ?? result.signal}`);
    process.exit(result.status ?? 1);
  }
}

const stale = !existsSync(installed) || statSync(lockfile).mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  // `npm install` with the lockfile, not `npm ci`: see .ci/run for why.
  console.log('bootstrap: installing npm dependencies (npm install)...');
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['install', '--no-audit', '--no-fund']);
}
run(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'setup-toolchain.ts'), ...process.argv.slice(2)]);
