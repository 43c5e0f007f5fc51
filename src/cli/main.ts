// The operator CLI: the commands that send operator updates come from the update table. With an API URL and key the
// incident commands go through the HTTP API (api-incidents.ts); without, straight to Temporal through IncidentClient,
// the break-glass path (incidents.ts). Prints tables by default and JSON with --json; every failure is one line on
// stderr naming what went wrong, with exit status 1 (2 for usage errors).
import { Client } from '@temporalio/client';
import { Command, CommanderError, Option } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { ledgerFile, verifyLedger } from '../ledger';
import { IncidentClient } from '../client';
import { loadConfig } from '../config';
import { EVENT_TYPES } from '../../domain/incident';
import { UPDATES, UPDATE_NAMES, type UpdateRequest, type UpdateSpec } from '../../domain/updates';
import { dataConverterFor, engineCodec } from '../codec/engine';
import { connectClient, resolveTemporalTarget } from '../temporal/connection';
import type { IncidentStatusView } from '../../workflows/definitions';
import { formatList, formatStatus, formatTimeline, terminalSafe } from '../format';
import { ApiIncidents, ApiUsageError } from './api-incidents';
import { registerApiKeyCommands } from './apikey-commands';
import { type CliIncidents, type OpenCommand, temporalIncidents } from './incidents';
import { registerDrillCommands } from './drill-commands';
import { wholeNumberOption } from './whole-number-option';
import { registerRunbookCommands } from './runbook-commands';
import { registerReportCommands } from '../reports/cli';

interface GlobalOptions {
  json?: boolean;
  by?: string;
  address?: string;
  namespace?: string;
  profile?: string;
  configFile?: string;
  apiUrl?: string;
  apiKey?: string;
}

const program = new Command()
  .name('incident-engine')
  .description(
    'Open and steer incidents (durable Temporal workflows).\n\n' +
      'With --api-url and --api-key (or INCIDENT_API_URL and INCIDENT_API_KEY), open, list, show, watch and every ' +
      "update go through the HTTP API, acting as the key's name within its role. Without an API URL they go straight " +
      'to Temporal: the break-glass path, recorded as breakGlass on the timeline.',
  )
  .option('--json', 'print JSON instead of text')
  .addOption(
    new Option('--api-url <url>', 'the HTTP API to send incident commands to, like http://127.0.0.1:8080').env(
      'INCIDENT_API_URL',
    ),
  )
  .addOption(
    new Option('--api-key <key>', 'API key for --api-url (prefer the environment: flags show in ps)').env(
      'INCIDENT_API_KEY',
    ),
  )
  .option(
    '--by <name>',
    "who is acting, straight to Temporal (default: $INCIDENT_OPERATOR or the login name); ignored over the API, where the key's name acts",
  )
  .option('--address <host:port>', 'Temporal frontend (default: envconfig / TEMPORAL_ADDRESS / 127.0.0.1:7233)')
  .option('--namespace <ns>', 'Temporal namespace (default: envconfig / TEMPORAL_NAMESPACE / default)')
  .option('--profile <name>', 'Temporal envconfig profile, as the temporal CLI uses (default: $TEMPORAL_PROFILE)')
  .option('--config-file <file>', 'Temporal envconfig TOML file (default: $TEMPORAL_CONFIG_FILE)')
  .showHelpAfterError()
  .exitOverride();

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

function actor(): string {
  return globals().by ?? process.env.INCIDENT_OPERATOR ?? os.userInfo().username ?? 'operator';
}

let cached: IncidentClient | undefined;
/** Straight to Temporal (the drill and report commands, and the break-glass path of the incident commands). */
async function temporalClient(): Promise<IncidentClient> {
  if (cached) return cached;
  const g = globals();
  const env = { ...process.env };
  if (g.address) env.TEMPORAL_ADDRESS = g.address;
  if (g.namespace) env.TEMPORAL_NAMESPACE = g.namespace;
  if (g.profile) env.TEMPORAL_PROFILE = g.profile;
  if (g.configFile) env.TEMPORAL_CONFIG_FILE = g.configFile;
  const target = resolveTemporalTarget(env);
  const connection = await connectClient(target);
  const config = loadConfig();
  const dataConverter = dataConverterFor(engineCodec(config.dataDir));
  cached = new IncidentClient(new Client({ connection, namespace: target.namespace, dataConverter }), config.taskQueue);
  return cached;
}

/** The incident commands' way in: the HTTP API when given its URL, else straight to Temporal (break-glass). */
async function incidents(): Promise<CliIncidents> {
  const { apiUrl, apiKey, by } = globals();
  if (!apiUrl) return temporalIncidents(await temporalClient(), actor());
  const api = new ApiIncidents(apiUrl, apiKey);
  if (by !== undefined) console.error(terminalSafe(`warning: --by ${by} is ignored over the API: the key's name acts`));
  return api;
}

/** The key commander stores an option's value under: "--data-breach" -> "dataBreach". */
function optionKey(flags: string): string {
  const long = /--([\w-]+)/.exec(flags)?.[1] ?? '';
  return long.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

function print(value: unknown, text: () => string): void {
  console.log(terminalSafe(globals().json ? JSON.stringify(value, null, 2) : text()));
}

function printStatus(view: IncidentStatusView): void {
  print(view, () => formatStatus(view));
}

program
  .command('open')
  .description('open an incident with a runbook')
  .requiredOption('-r, --runbook <id>', 'runbook id (see runbooks/)')
  .requiredOption('-t, --title <text>', 'what is happening')
  .option('-s, --severity <severity>', 'P0-P3 or Critical/High/Medium/Low (default: from the event type)')
  .addOption(new Option('-e, --event-type <type>', 'what was detected').choices([...EVENT_TYPES]).default('other'))
  .option('--system <name...>', 'affected systems')
  .option('--dedup-key <key>', 'open at most one incident per key while it is open')
  .option('--drill', 'a drill: actions are recorded, not performed')
  .action(
    async (opts: {
      runbook: string;
      title: string;
      severity?: string;
      eventType: string;
      system?: string[];
      dedupKey?: string;
      drill?: boolean;
    }) => {
      const client = await incidents();
      const result = await client.open(
        {
          title: opts.title,
          eventType: opts.eventType as OpenCommand['eventType'],
          ...(opts.severity ? { severity: opts.severity } : {}),
          affectedSystems: opts.system ?? [],
          drill: Boolean(opts.drill),
          ...(opts.dedupKey ? { dedupKey: opts.dedupKey } : {}),
        },
        opts.runbook,
      );
      print(result, () => (result.created ? `opened ${result.incidentId}` : `already open as ${result.incidentId}`));
    },
  );

program
  .command('list')
  .description('list incidents (Temporal visibility)')
  .option('--status <status>', 'active, resolved, closed, false_positive')
  .option('--severity <severity>', 'P0-P3')
  .option('--category <category>', 'security, operational, privacy')
  .option('--runbook <id>')
  .option('--drill', 'only drills')
  .option('--no-drill', 'leave drills out')
  .option('--limit <n>', 'at most this many (1 to 1000)', wholeNumberOption(1, 1_000), 50)
  .action(
    async (opts: {
      status?: string;
      severity?: string;
      category?: string;
      runbook?: string;
      drill?: boolean;
      limit: number;
    }) => {
      const client = await incidents();
      const rows = await client.list(opts);
      print(rows, () => formatList(rows));
    },
  );

program
  .command('show <incident>')
  .description('status and timeline of an incident')
  .action(async (id: string) => {
    const client = await incidents();
    const [status, timeline] = await Promise.all([client.status(id), client.timeline(id)]);
    print({ status, timeline }, () => `${formatStatus(status)}\n\ntimeline:\n${formatTimeline(timeline)}`);
  });

program
  .command('watch <incident>')
  .description('follow the timeline live until the incident closes (Ctrl-C to stop watching)')
  .option('--interval <ms>', 'how often to look for new events (200 to 60000)', wholeNumberOption(200, 60_000), 1_000)
  .action(async (id: string, opts: { interval: number }) => {
    const client = await incidents();
    let seen = 0;
    for (;;) {
      const [status, timeline] = await Promise.all([client.status(id), client.timeline(id)]);
      // The timeline is append-only, so everything past what was printed is new.
      for (const event of timeline.slice(seen)) {
        console.log(terminalSafe(globals().json ? JSON.stringify(event) : formatTimeline([event])));
      }
      seen = timeline.length;
      if (['closed', 'false_positive', 'failed'].includes(status.status)) return;
      await new Promise((resolve) => setTimeout(resolve, opts.interval));
    }
  });

// One command per operator update, from the update table: positional arguments and options fill the update's input;
// the incident refuses what it may not do, with its reason.
for (const name of UPDATE_NAMES) {
  const { cli } = UPDATES[name] as UpdateSpec;
  const command = program.command(cli.usage).description(cli.description);
  for (const o of cli.options ?? []) {
    const option = new Option(o.flags, o.description);
    if (o.choices) option.choices([...o.choices]);
    if (o.required) option.makeOptionMandatory();
    command.addOption(option);
  }
  command.action(async (id: string, ...rest: unknown[]) => {
    const opts = rest[cli.args?.length ?? 0] as Record<string, unknown>;
    const input: Record<string, unknown> = { by: actor() };
    cli.args?.forEach((field, i) => (input[field] = rest[i]));
    for (const o of cli.options ?? []) {
      const value = opts[optionKey(o.flags)];
      // An empty text is left out, as if the option were not given.
      if (value !== undefined && value !== '') input[o.field] = o.number ? Number(value) : value;
    }
    const client = await incidents();
    printStatus(await client.send(id, name, input as UpdateRequest<typeof name>));
  });
}

registerRunbookCommands(program, { json: () => globals().json === true, print });
registerDrillCommands(program, { json: () => globals().json === true, print, incidents: temporalClient });
registerApiKeyCommands(program, { print });
registerReportCommands(program, { json: () => globals().json === true, incidents: temporalClient });

const ledger = program
  .command('ledger')
  .description('the evidence ledger: hash-chained record of snapshots and quarantines');
ledger
  .command('verify')
  .description('check every entry and the chain; exit status 1 naming the first bad entry')
  .option('--file <path>', 'ledger file (default: <dataDir>/ledger.jsonl from incident-engine.yaml)')
  .action(async (opts: { file?: string }) => {
    const file = opts.file ? path.resolve(opts.file) : ledgerFile(loadConfig().dataDir);
    const report = await verifyLedger(file);
    if (!report.ok) {
      if (globals().json) console.log(terminalSafe(JSON.stringify(report, null, 2)));
      const files = report.mismatches.map((m) => m.message).filter((m) => m !== report.problem?.message);
      throw new Error([`ledger ${file}: ${report.problem?.message ?? 'verification failed'}`, ...files].join('\n'));
    }
    print(report, () =>
      [
        `ledger ${file}: ok, ${report.entries} entries${report.last ? `; last seq ${report.last.seq}, hash ${report.last.hash}` : ''}`,
        ...report.warnings.map((warning) => `warning: ${warning}`),
      ].join('\n'),
    );
  });

try {
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  if (error instanceof ApiUsageError) {
    console.error(terminalSafe(`error: ${error.message}`));
    process.exit(2);
  }
  console.error(terminalSafe(`error: ${error instanceof Error ? error.message : String(error)}`));
  process.exit(1);
}
