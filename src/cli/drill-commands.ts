// `drill list | validate | run | replay` and `incident export`: drills on the time-skipping test server, replay of
// recorded histories against the current code, and export of an incident's histories. Heavy modules (the worker, the
// testing server) load only when a drill or replay runs, so the rest of the CLI stays quick.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { IncidentClient } from '../client';
import { loadConfig } from '../config';
import { DEFAULT_DRILL_DIR, displayPath, drillFiles, findDrill, loadDrillFile } from '../drills/load';
import { MAX_REPLAY_THREADS } from '../drills/replay-thread-count';
import type { DrillProgress } from '../drills/runner';
import { wholeNumberOption } from './whole-number-option';

export interface DrillCommandIo {
  json: () => boolean;
  print: (value: unknown, text: () => string) => void;
  incidents: () => Promise<IncidentClient>;
}

function progressLine(p: DrillProgress): string {
  const marker = p.kind === 'script' ? '>' : ' ';
  return `${p.atLabel.padEnd(10)} ${p.phase.padEnd(13)} L${p.level} ${marker} ${p.text.length > 150 ? `${p.text.slice(0, 147)}...` : p.text}`;
}

/** Writes `text` to `out` (saying so on stderr), or to stdout. */
function emit(text: string, out: string | undefined): void {
  if (out) {
    writeFileSync(out, text, { mode: 0o600 });
    process.stderr.write(`report written to ${out}\n`);
  } else process.stdout.write(text);
}

export function registerDrillCommands(program: Command, io: DrillCommandIo): void {
  const drill = program
    .command('drill')
    .description('drills: scenarios played on the time-skipping server, and history replay');

  drill
    .command('list')
    .description(`drill scenarios in ${displayPath(DEFAULT_DRILL_DIR)}`)
    .action(() => {
      const rows = drillFiles().map((file) => {
        try {
          const s = loadDrillFile(file, { skipRunbookCheck: true });
          return {
            file: displayPath(file),
            id: s.id,
            runbook: s.runbook,
            mode: s.mode,
            title: s.title,
            events: s.script.length,
          };
        } catch (error) {
          return { file: displayPath(file), error: (error as Error).message };
        }
      });
      io.print(
        rows,
        () =>
          rows
            .map((r) =>
              'error' in r
                ? `${r.file}: INVALID (run drill validate)`
                : `${r.id.padEnd(34)} ${r.mode.padEnd(9)} ${r.runbook.padEnd(24)} ${r.title}`,
            )
            .join('\n') || 'no drill scenarios',
      );
    });

  drill
    .command('validate [scenario...]')
    .description(
      'check scenarios (all in runbooks/drills by default) against the schema and their runbooks; exit 1 naming file:line:column',
    )
    .action((scenarios: string[]) => {
      const files = scenarios.length ? scenarios : drillFiles();
      const results = files.map((file) => {
        try {
          const s = findDrill(file);
          return { file: s.file, ok: true, id: s.id };
        } catch (error) {
          return { file: displayPath(path.resolve(file)), ok: false, errors: (error as Error).message.split('\n') };
        }
      });
      io.print(results, () =>
        results
          .map((r) =>
            r.ok
              ? `ok       ${r.file} (${r.id})`
              : `INVALID  ${r.file}\n${(r.errors ?? []).map((e) => `  ${e}`).join('\n')}`,
          )
          .join('\n'),
      );
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });

  drill
    .command('run <scenario>')
    .description(
      'run a scenario (a file, or an id in runbooks/drills) on the time-skipping server; exit 1 when an expectation fails',
    )
    .option('--markdown', 'report as Markdown (default text; --json for JSON)')
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--technical', 'a technical scenario: run its actions for real against staging targets')
    .option('--tabletop', 'a technical scenario: record its actions instead (what CI does)')
    .option('--staging-config <file>', 'an incident-engine.yaml whose every target is staging (technical drills)')
    .option('-q, --quiet', 'no progress on the terminal')
    .option('--record', 'record it as a drill held (the quarterly report lists it) in the data directory')
    .action(
      async (
        name: string,
        opts: {
          markdown?: boolean;
          out?: string;
          technical?: boolean;
          tabletop?: boolean;
          stagingConfig?: string;
          quiet?: boolean;
          record?: boolean;
        },
      ) => {
        const scenario = findDrill(name);
        const { quietTemporalRuntime } = await import('../drills/server');
        await quietTemporalRuntime();
        const { runDrill } = await import('../drills/runner');
        const { reportJson, reportMarkdown, reportText } = await import('../drills/report');
        let staging;
        if (opts.technical) {
          staging = opts.stagingConfig
            ? {
                config: loadConfig(process.cwd(), {
                  ...process.env,
                  INCIDENT_ENGINE_CONFIG: path.resolve(opts.stagingConfig),
                }),
                wholeFileIsStaging: true,
                source: displayPath(path.resolve(opts.stagingConfig)),
              }
            : {
                config: loadConfig(),
                wholeFileIsStaging: false,
                source: process.env.INCIDENT_ENGINE_CONFIG ?? 'incident-engine.yaml',
              };
        }
        if (!opts.quiet) {
          process.stderr.write(
            `drill ${scenario.id}: runbook ${scenario.runbook}, ${scenario.script.length} scripted event(s), simulated clock from the opening\n`,
          );
        }
        const started = Date.now();
        const report = await runDrill(scenario, {
          ...(opts.technical ? { technical: true } : {}),
          ...(opts.tabletop ? { tabletop: true } : {}),
          ...(staging ? { staging } : {}),
          ...(opts.quiet ? {} : { onProgress: (p: DrillProgress) => process.stderr.write(`${progressLine(p)}\n`) }),
        });
        if (!opts.quiet) {
          const seconds = (Date.now() - started) / 1000;
          process.stderr.write(
            `drill ${scenario.id}: ${report.clock.endLabel} of simulated time in ${seconds.toFixed(1)} s; ${report.summary}\n`,
          );
        }
        emit(io.json() ? reportJson(report) : opts.markdown ? reportMarkdown(report) : reportText(report), opts.out);
        if (opts.record) {
          const { recordDrillHeld } = await import('../reports/drills-held');
          await recordDrillHeld(loadConfig().dataDir, report, Date.now(), 'cli');
        }
        if (!report.passed) process.exitCode = 1;
      },
    );

  drill
    .command('replay <history...>')
    .description(
      'replay histories (files, export bundles or directories) against the current code; exit 1 naming the first divergence',
    )
    .option('--no-locate', 'do not bisect for the diverging event (report the message only)')
    .option('--reenact', 'also turn each incident history into a drill, run it, and compare the decisions')
    .option(
      '--threads <n>',
      'threads replaying side by side, this one included, from 40 histories up (default: one per core, at most 8; up to 32)',
      wholeNumberOption(1, MAX_REPLAY_THREADS),
    )
    .action(async (paths: string[], opts: { locate: boolean; reenact?: boolean; threads?: number }) => {
      const { quietTemporalRuntime } = await import('../drills/server');
      await quietTemporalRuntime();
      const { formatReplay, loadHistories, replayHistories, startReplayThreads } = await import('../drills/replay');
      const { bundleWorkflows } = await import('../worker');
      const inputs = loadHistories(paths);
      // The replay threads start while the workflow code is bundled, and are ready when it is.
      const replayThreads = startReplayThreads(inputs.length, opts.threads);
      let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
      let outcomes: Awaited<ReturnType<typeof replayHistories>>;
      try {
        bundle = await bundleWorkflows();
        const { loadCodecKeys } = await import('../codec/keys');
        const keyring = loadCodecKeys(loadConfig().dataDir);
        outcomes = await replayHistories(inputs, {
          workflowBundle: bundle,
          locate: opts.locate,
          keyring,
          // The threads started above, or none: the count decided there holds for the batch.
          ...(replayThreads ? { replayThreads } : { threads: 1 }),
        });
      } finally {
        await replayThreads?.close();
      }
      let failed = outcomes.some((o) => !o.ok);
      if (!opts.reenact) {
        io.print(outcomes, () => formatReplay(outcomes).trimEnd());
      } else {
        const { reenactHistories, formatReenactment } = await import('../drills/reenact');
        const reenactments = await reenactHistories(inputs, { workflowBundle: bundle });
        failed ||= reenactments.some((r) => !r.same);
        io.print({ replay: outcomes, reenact: reenactments }, () =>
          `${formatReplay(outcomes)}\n${formatReenactment(reenactments)}`.trimEnd(),
        );
      }
      if (failed) process.exitCode = 1;
    });

  const incident = program.command('incident').description('incident records');
  incident
    .command('export <incident>')
    .description(
      "the incident's history and its phase children's, as `temporal workflow show --output json` prints them",
    )
    .option('--out <file>', 'write one bundle file (default: the bundle on stdout)')
    .option('--dir <dir>', 'write one file per workflow instead: <prefix>.incident.json, <prefix>.<phase>.json')
    .option('--prefix <name>', 'file name prefix with --dir (default: the incident id)')
    .action(async (id: string, opts: { out?: string; dir?: string; prefix?: string }) => {
      const { bundleJson, exportIncident, writeSplit } = await import('../drills/export');
      const client = await io.incidents();
      client.handle(id); // validates the id's shape with a clear message
      const bundle = await exportIncident(client.client, id);
      if (opts.dir) {
        const files = writeSplit(bundle, opts.dir, opts.prefix);
        io.print({ incidentId: id, files }, () => files.map((f) => `wrote ${f}`).join('\n'));
      } else emit(bundleJson(bundle), opts.out);
    });
}
