// The console's one way to the API: same-origin fetch with the session cookie, the CSRF token on every state change,
// and every refusal turned into an ApiFailure carrying the API's own words.

export type Permission = 'read' | 'open' | 'steer' | 'command' | 'alert';

export interface Session {
  name: string;
  role: string;
  permissions: Permission[];
  csrf?: string;
  rolesWith: Record<Permission, string[]>;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';

export function setCsrfToken(token: string | undefined): void {
  csrf = token ?? '';
}

export async function api<T>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new ApiFailure(0, 'network', `cannot reach the API: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const body = (parsed ?? {}) as { error?: unknown; message?: unknown };
    throw new ApiFailure(
      response.status,
      typeof body.error === 'string' ? body.error : `http_${response.status}`,
      typeof body.message === 'string' ? body.message : `HTTP ${response.status}`,
    );
  }
  return parsed as T;
}

/** Why a role may not do something, or undefined when it may. */
export function refusal(session: Session, permission: Permission, what: string): string | undefined {
  if (session.permissions.includes(permission)) return undefined;
  const roles = (session.rolesWith[permission] ?? []).join(' or ');
  const an = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);
  return `To ${what} you need ${an(roles)} key; "${session.name}" is ${an(session.role)} key.`;
}
