// Builds the operator console's browser code (web/) with esbuild when the API starts, in memory: nothing built is
// committed or written to disk, so `npm start` from a fresh checkout serves it. One build per process, shared by every
// server in it; each asset is served under its content hash so browsers may cache it for good.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleAsset {
  /** The URL path it is served at, with its content hash. */
  path: string;
  type: string;
  body: Buffer;
}

export interface ConsoleBundle {
  script: ConsoleAsset;
  style: ConsoleAsset;
}

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

let building: Promise<ConsoleBundle> | undefined;

function asset(name: string, ext: string, type: string, text: string): ConsoleAsset {
  const body = Buffer.from(text);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { path: `/console/assets/${name}.${hash}.${ext}`, type, body };
}

async function build(): Promise<ConsoleBundle> {
  // Loaded here: only a process that serves the console pays for esbuild.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: path.join(WEB_DIR, 'main.tsx'), style: path.join(WEB_DIR, 'style.css') },
    bundle: true,
    minify: true,
    write: false,
    outdir: '/console-build',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: WEB_DIR,
  });
  const text = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`the console build produced no ${ext} file`);
    return file.text;
  };
  return {
    script: asset('app', 'js', 'text/javascript; charset=utf-8', text('.js')),
    style: asset('style', 'css', 'text/css; charset=utf-8', text('.css')),
  };
}

/** The console's script and stylesheet, built once per process. */
export function consoleBundle(): Promise<ConsoleBundle> {
  building ??= build().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}
