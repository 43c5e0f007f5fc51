// Preloaded (`node --require`) into every process that runs the engine's worker; Node runs it again in each worker
// thread, and the SDK runs workflows on worker threads. There it keeps off the SDK's workflow stack traces: the SDK
// captures a source-mapped stack for every promise a workflow creates and keeps it while the promise is pending, so a
// workflow can answer the `__stack_trace` query (Temporal UI's stack trace tab, `temporal workflow stack`). An
// incident sleeps on a dozen such promises for days; measured with 1,000 open incidents, the capture was a fifth of
// the worker's memory and CPU (docs/BENCHMARKS.md). INCIDENT_ENGINE_WORKFLOW_STACK_TRACES=on keeps them, for
// debugging a stuck workflow. The SDK installs its hook on a thread only once; marking it installed keeps it off.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (!isMainThread && process.env.INCIDENT_ENGINE_WORKFLOW_STACK_TRACES !== 'on') {
  try {
    const { globalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared');
    if (typeof globalHandlers?.installed === 'boolean') globalHandlers.installed = true;
  } catch {
    // An SDK that moved its hook: workflows keep their stack traces, and test/workflows/stack-traces.test.ts fails.
  }
}
