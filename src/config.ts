// Engine configuration: where data and evidence live and where notifications go. Read once at start from
// `incident-engine.yaml` (or INCIDENT_ENGINE_CONFIG); every field has a working default, so a first run needs none.
// The schemas and types are in domain/config.ts (activities and clients read them too); this module loads and resolves.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { formatYamlIssues, parseYamlWithPositions } from './runbooks/yaml-errors';
import {
  ApiConfigFile,
  type Channel,
  DEFAULT_TASK_QUEUE,
  type EngineConfig,
  EngineConfigFile,
  type EngineConfigInput,
} from '../domain/config';
import { CONNECTOR_ACTION_NAMES } from '../domain/actions/connectors';
import { ReportsConfigFile } from '../domain/reports-config';

export * from '../domain/config';

/** Builds a config from parsed file contents, resolving relative paths against `baseDir`. */
export function buildConfig(file: EngineConfigInput, baseDir: string): EngineConfig {
  const dataDir = path.resolve(baseDir, file.dataDir ?? '.data');
  const channels: Record<string, Channel> = {
    default: { type: 'file', path: path.join(dataDir, 'notifications.jsonl') },
    ...file.channels,
  };
  for (const [name, channel] of Object.entries(channels)) {
    if (channel.type === 'file') channels[name] = { ...channel, path: path.resolve(baseDir, channel.path) };
    if (channel.type === 'slack' || channel.type === 'smtp') {
      const sentLog =
        channel.sentLog ?? path.join(dataDir, 'notify', `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.sent.jsonl`);
      channels[name] = { ...channel, sentLog: path.resolve(baseDir, sentLog) };
    }
  }
  for (const [audience, channel] of Object.entries(file.audiences)) {
    if (!channels[channel]) {
      throw new Error(
        `audience "${audience}" names channel "${channel}", which is not configured (have: ${Object.keys(channels).join(', ')})`,
      );
    }
  }
  const { keysFile, ...api } = ApiConfigFile.parse(file.api ?? {});
  const connectors = file.connectors ?? {};
  const connectorFor = file.connectorFor ?? {};
  for (const [action, connector] of Object.entries(connectorFor)) {
    if (!(CONNECTOR_ACTION_NAMES as string[]).includes(action)) {
      throw new Error(
        `connectorFor names action "${action}", which does not use a connector (expected one of: ${CONNECTOR_ACTION_NAMES.join(', ')})`,
      );
    }
    if (!connectors[connector]) {
      throw new Error(
        `connectorFor.${action} names connector "${connector}", which is not configured (have: ${Object.keys(connectors).join(', ') || 'none'})`,
      );
    }
  }
  return {
    dataDir,
    evidenceDir: path.resolve(baseDir, file.evidenceDir ?? path.join(dataDir, 'evidence')),
    evidenceBase: path.resolve(baseDir, file.evidenceBase ?? '.'),
    taskQueue: file.taskQueue ?? DEFAULT_TASK_QUEUE,
    channels,
    audiences: file.audiences,
    ...(file.emergencyApi ? { emergencyApi: file.emergencyApi } : {}),
    connectors,
    connectorFor,
    http: { allowHosts: file.http?.allowHosts ?? [] },
    ...(file.templates ? { templates: file.templates } : {}),
    ...(file.quarantine
      ? { quarantine: { roots: file.quarantine.roots.map((root) => path.resolve(baseDir, root)) } }
      : {}),
    api: { ...api, keysFile: path.resolve(baseDir, keysFile ?? path.join(dataDir, 'api-keys.json')) },
    reports: ReportsConfigFile.parse(file.reports ?? {}),
  };
}

/** Loads `incident-engine.yaml` from `cwd` (or the file INCIDENT_ENGINE_CONFIG names); defaults when absent. */
export function loadConfig(cwd = process.cwd(), env = process.env): EngineConfig {
  const file = env.INCIDENT_ENGINE_CONFIG
    ? path.resolve(cwd, env.INCIDENT_ENGINE_CONFIG)
    : path.join(cwd, 'incident-engine.yaml');
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
