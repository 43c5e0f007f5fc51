// Request headers and URLs from configuration: `{ fromEnv: NAME }` values read from the worker's environment when the
// request is sent, so tokens stay out of incident-engine.yaml and out of workflow history. A value never appears in a
// message.
import type { HeaderValue } from '../../domain/config';
import { MissingSecretError } from '../errors';

/** The environment variable's value, or MissingSecretError naming `where` and the variable (never a value). */
export function secretFromEnv(name: string, where: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env[name];
  if (secret === undefined || secret.trim() === '') {
    throw new MissingSecretError(
      `${where}: expected environment variable ${name} to hold the value, but it is ${secret === undefined ? 'not set' : 'empty'} in the worker's environment; set it where the worker runs (the value stays out of incident-engine.yaml)`,
    );
  }
  return secret;
}

/** Configured headers: literal values as they are, `{ fromEnv, prefix? }` from `env` at call time. */
export function resolveHeaders(
  spec: Record<string, HeaderValue> | undefined,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec ?? {})) {
    headers[name] =
      typeof value === 'string'
        ? value
        : `${value.prefix ?? ''}${secretFromEnv(value.fromEnv, `${where}.${name}`, env)}`;
  }
  return headers;
}
