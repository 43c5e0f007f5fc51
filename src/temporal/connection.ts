// Where the Temporal server is and how to connect to it, from Temporal's own environment configuration
// (@temporalio/envconfig: TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE or the default temporal.toml, TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_TLS*, TEMPORAL_API_KEY). It must never start a server, never invent an address when
// one was configured, and never log credentials.
import { type Connection } from '@temporalio/client';
import { connectClosable } from './closable-connection';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

/** The dev server's address when nothing is configured (127.0.0.1, not localhost: it may resolve to ::1 first). */
export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

export type TemporalConnectOptions = Pick<NativeConnectionOptions, 'tls' | 'apiKey' | 'metadata'> & { address: string };

export interface TemporalTarget {
  /**
   * True when an address, profile or config file was given: the caller must use that server and must not start a
   * dev server of its own.
   */
  explicit: boolean;
  address: string;
  namespace: string;
  connectOptions: TemporalConnectOptions;
}

export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

/** Resolves the target from envconfig; `env` defaults to process.env. */
export function resolveTemporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const overrideEnvVars: Record<string, string> = {};
  // An empty variable counts as unset (`TEMPORAL_ADDRESS= cmd` must not override a profile's address with nothing).
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') overrideEnvVars[key] = value;
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars });
  } catch (err) {
    const where = env.TEMPORAL_CONFIG_FILE ? ` from ${env.TEMPORAL_CONFIG_FILE}` : '';
    const which = env.TEMPORAL_PROFILE ? ` (profile ${JSON.stringify(env.TEMPORAL_PROFILE)})` : '';
    throw new Error(`cannot load the Temporal client configuration${where}${which}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const explicit = Boolean(profile.address || overrideEnvVars.TEMPORAL_PROFILE || overrideEnvVars.TEMPORAL_CONFIG_FILE);
  const { connectionOptions, namespace } = toClientOptions(profile);
  const address = connectionOptions.address || DEFAULT_ADDRESS;
  const connectOptions: TemporalConnectOptions = { address };
  if (connectionOptions.tls !== undefined) connectOptions.tls = connectionOptions.tls;
  if (connectionOptions.apiKey !== undefined) connectOptions.apiKey = connectionOptions.apiKey;
  if (connectionOptions.metadata !== undefined) connectOptions.metadata = connectionOptions.metadata;
  return { explicit, address, namespace: namespace || DEFAULT_NAMESPACE, connectOptions };
}

function unreachable(target: TemporalTarget, err: unknown): TemporalUnreachableError {
  const reason = err instanceof Error ? err.message : String(err);
  const hint = target.explicit
    ? 'Check TEMPORAL_ADDRESS, TEMPORAL_PROFILE or TEMPORAL_CONFIG_FILE, and that the server is up'
    : 'Start it with `npm start` or set TEMPORAL_ADDRESS';
  return new TemporalUnreachableError(`cannot reach Temporal at ${target.address}: ${reason}. ${hint}.`, {
    cause: err,
  });
}

/** A client Connection that has answered a real RPC; throws TemporalUnreachableError naming the address. */
export async function connectClient(
  target: TemporalTarget = resolveTemporalTarget(),
  options: { connectTimeoutMs?: number } = {},
): Promise<Connection> {
  let connection: Connection | undefined;
  try {
    connection = await connectClosable({
      ...target.connectOptions,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
    });
    await connection.workflowService.getSystemInfo({});
    return connection;
  } catch (err) {
    await connection?.close().catch(() => undefined);
    throw unreachable(target, err);
  }
}

/** A worker NativeConnection; throws TemporalUnreachableError naming the address. */
export async function connectWorker(target: TemporalTarget = resolveTemporalTarget()): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ ...target.connectOptions });
  } catch (err) {
    throw unreachable(target, err);
  }
}
