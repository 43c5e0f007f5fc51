// Runs in every test process before its tests: Temporal workers log at WARN, so test output shows what matters.
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';

try {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
} catch {
  // A runtime already exists in this process: keep it.
}
