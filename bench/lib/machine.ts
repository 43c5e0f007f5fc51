// The machine and versions a run was measured on, and the outside load around it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolchainPaths } from '../../src/temporal/toolchain';

const REPO = path.resolve(import.meta.dirname, '../..');

export interface MachineInfo {
  cpu_model: string;
  cores: number;
  memory_gb: number;
  os: string;
  node: string;
  temporal_sdk: string;
  temporal_cli: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineInfo(): MachineInfo {
  let cli: string;
  try {
    cli = execFileSync(toolchainPaths().temporalCli, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    cli = `unknown (${error instanceof Error ? error.message : String(error)})`;
  }
  const sdk = JSON.parse(readFileSync(path.join(REPO, 'node_modules/@temporalio/worker/package.json'), 'utf8')) as {
    version: string;
  };
  return {
    cpu_model: cpuModel(),
    cores: os.cpus().length,
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporal_sdk: sdk.version,
    temporal_cli: cli,
  };
}
