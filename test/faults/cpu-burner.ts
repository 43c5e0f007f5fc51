// A CPU burner for tests that must hold under load: `count` OS processes spinning until stopped.
import { type ChildProcess, spawn } from 'node:child_process';

export interface CpuBurner {
  stop(): void;
}

export function startCpuBurner(count: number): CpuBurner {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    // Lowest priority: it takes what is left, as another tenant of the machine would.
    children.push(spawn('nice', ['-n', '19', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }));
  }
  return {
    stop: () => {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}
