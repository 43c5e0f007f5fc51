// Engine configuration: where data and evidence live and where notifications go. Read once at start from
// `incident-engine.yaml` (or INCIDENT_ENGINE_CONFIG); every field has a working default, so a first run needs none.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatYamlIssues, parseYamlWithPositions } from './runbooks/yaml-errors';

const WebhookChannel = z
  .object({
    type: z.literal('webhook'),
    url: z.url({ error: 'expected an http(s) URL' }),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
const FileChannel = z.object({ type: z.literal('file'), path: z.string().min(1) }).strict();
export const Channel = z.discriminatedUnion('type', [WebhookChannel, FileChannel]);
export type Channel = z.infer<typeof Channel>;

export const EngineConfigFile = z
  .object({
    dataDir: z.string().min(1).optional(),
    evidenceDir: z.string().min(1).optional(),
    /** Relative evidence paths in runbooks resolve against this folder. */
    evidenceBase: z.string().min(1).optional(),
    taskQueue: z.string().min(1).optional(),
    channels: z.record(z.string(), Channel).default({}),
    /** Which channel serves each audience (internal, external, executive, L1, L2, L3); `default` otherwise. */
    audiences: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export interface EngineConfig {
  dataDir: string;
  evidenceDir: string;
  evidenceBase: string;
  taskQueue: string;
  channels: Record<string, Channel>;
  audiences: Record<string, string>;
}

export const DEFAULT_TASK_QUEUE = 'incidents';

/** Builds a config from parsed file contents, resolving relative paths against `baseDir`. */
export function buildConfig(file: z.infer<typeof EngineConfigFile>, baseDir: string): EngineConfig {
  const dataDir = path.resolve(baseDir, file.dataDir ?? '.data');
  const channels: Record<string, Channel> = {
    default: { type: 'file', path: path.join(dataDir, 'notifications.jsonl') },
    ...file.channels,
  };
  for (const [name, channel] of Object.entries(channels)) {
    if (channel.type === 'file') channels[name] = { ...channel, path: path.resolve(baseDir, channel.path) };
  }
  for (const [audience, channel] of Object.entries(file.audiences)) {
    if (!channels[channel]) {
      throw new Error(`audience "${audience}" names channel "${channel}", which is not configured (have: ${Object.keys(channels).join(', ')})`);
    }
  }
  return {
    dataDir,
    evidenceDir: path.resolve(baseDir, file.evidenceDir ?? path.join(dataDir, 'evidence')),
    evidenceBase: path.resolve(baseDir, file.evidenceBase ?? '.'),
    taskQueue: file.taskQueue ?? DEFAULT_TASK_QUEUE,
    channels,
    audiences: file.audiences,
  };
}

/** Loads `incident-engine.yaml` from `cwd` (or the file INCIDENT_ENGINE_CONFIG names); defaults when absent. */
export function loadConfig(cwd = process.cwd(), env = process.env): EngineConfig {
  const file = env.INCIDENT_ENGINE_CONFIG ? path.resolve(cwd, env.INCIDENT_ENGINE_CONFIG) : path.join(cwd, 'incident-engine.yaml');
  if (!existsSync(file)) {
    if (env.INCIDENT_ENGINE_CONFIG) throw new Error(`config file ${file} (from INCIDENT_ENGINE_CONFIG) does not exist`);
    return buildConfig(EngineConfigFile.parse({}), cwd);
  }
  const text = readFileSync(file, 'utf8');
  const { value, locate } = parseYamlWithPositions(text, file);
  const parsed = EngineConfigFile.safeParse(value ?? {});
  if (!parsed.success) throw new Error(formatYamlIssues(file, parsed.error.issues, locate));
  return buildConfig(parsed.data, path.dirname(file));
}
