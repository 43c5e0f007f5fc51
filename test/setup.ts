// Runs in every test process before its tests: Temporal workers log at WARN, so test output shows what matters.
import { inspect } from 'node:util';
import { DefaultLogger, type LogEntry, Runtime, makeTelemetryFilterString } from '@temporalio/worker';

/**
 * Warnings every time-skipping test server causes and nothing in a test can act on: it does not advertise a
 * capability newer servers have. Left out so the warnings that remain are worth reading.
 */
const KNOWN_TEST_SERVER_WARNINGS = ['the server did not advertise the activity_failure_include_heartbeat capability'];

function logToStderr({ level, message, meta, timestampNanos }: LogEntry): void {
  if (KNOWN_TEST_SERVER_WARNINGS.some((known) => message.includes(known))) return;
  const at = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  process.stderr.write(`${at} [${level}] ${message}${meta ? ` ${inspect(meta, { depth: 4 })}` : ''}\n`);
}

try {
  Runtime.install({
    logger: new DefaultLogger('WARN', logToStderr),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
} catch {
  // A runtime already exists in this process: keep it.
}
