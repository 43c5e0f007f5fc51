// `apikey create | list | revoke`: API keys for the HTTP API, in <dataDir>/api-keys.json (hashed). `create` prints the
// key once (and the signing secret, with --hmac); nothing can show it again. Needs no Temporal server.
import type { Command } from 'commander';
import { Option } from 'commander';
import { API_ROLES, ApiKeyStore, type ApiRole } from '../api-keys';
import { loadConfig } from '../config';

export interface ApiKeyCommandIo {
  print: (value: unknown, text: () => string) => void;
}

function store(): ApiKeyStore {
  return new ApiKeyStore(loadConfig().api.keysFile);
}

export function registerApiKeyCommands(program: Command, io: ApiKeyCommandIo): void {
  const apikey = program
    .command('apikey')
    .description('API keys for the HTTP API (roles: viewer, detector, operator, commander)');

  apikey
    .command('create')
    .description('create a key and print it once')
    .addOption(new Option('--role <role>', 'what the key may do').choices([...API_ROLES]).makeOptionMandatory())
    .requiredOption('--name <name>', 'who or what uses it; recorded as `by` on what the key does')
    .option('--hmac', 'also create a signing secret: intake requests with this key must then be HMAC-signed')
    .option(
      '--acknowledges',
      "a detector key that may acknowledge its own alerts' incidents (PagerDuty acknowledge events)",
    )
    .option(
      '--runbook-role <role...>',
      'bind the key to these runbook roles (incident-commander, legal-counsel...): approvals and tasks only in them',
    )
    .action((opts: { role: ApiRole; name: string; hmac?: boolean; acknowledges?: boolean; runbookRole?: string[] }) => {
      const keys = store();
      const created = keys.create({
        name: opts.name,
        role: opts.role,
        signing: opts.hmac === true,
        acknowledges: opts.acknowledges === true,
        ...(opts.runbookRole ? { runbookRoles: opts.runbookRole } : {}),
      });
      io.print({ ...created, file: keys.file }, () =>
        [
          `created ${created.role} key "${created.name}" (id ${created.id}) in ${keys.file}`,
          `key:            ${created.key}`,
          created.signingSecret ? `signing secret: ${created.signingSecret}` : undefined,
          created.runbookRoles ? `runbook roles:  ${created.runbookRoles.join(', ')}` : undefined,
          'This is the only time the key is shown; store it now. Send it as "Authorization: Bearer <key>".',
        ]
          .filter((line) => line !== undefined)
          .join('\n'),
      );
    });

  apikey
    .command('list')
    .description('list keys (id, name, role, created); secrets are never shown')
    .action(() => {
      const keys = store().list();
      io.print(keys, () =>
        keys.length === 0
          ? 'no API keys (npm start creates a first commander key)'
          : keys.map((k) => `${k.id}  ${k.role.padEnd(9)}  ${k.name.padEnd(24)}  ${k.createdAt}`).join('\n'),
      );
    });

  apikey
    .command('revoke <idOrName>')
    .description('delete a key; a running API refuses it within a second or two')
    .action((idOrName: string) => {
      const removed = store().revoke(idOrName);
      io.print(removed, () => `revoked ${removed.role} key "${removed.name}" (id ${removed.id})`);
    });
}
