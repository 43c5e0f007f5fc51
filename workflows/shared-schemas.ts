// The schema modules workflow code validates with, loaded once per worker and shared by every workflow it runs
// (the bundle's `preloadModules`, see src/worker.ts). Without this, each workflow instance in the worker's cache
// evaluates zod and builds its own copy of every schema: most of a cached workflow's memory, and a good part of the
// CPU of starting or replaying one.
//
// The SDK deep-freezes shared modules, and zod schemas do not survive that: they build members on first read, a
// memoizer rewrites a schema's parse on its first use, and regex checks reset `lastIndex` on every parse. The SDK's
// freeze does not descend into an object that is already frozen, so each module's exports object is frozen here,
// shallowly: its bindings can no longer change, and the schemas behind them stay as zod needs them. They hold no
// per-workflow state (parsing writes only to the parse's own context). zod's own exported patterns get the same
// treatment. test/unit/shared-schemas.test.ts checks that
// every schema module workflow code reaches is listed here.
import { regexes } from 'zod/v4/core';
import * as actions from '../domain/actions';
import * as alertBatch from '../domain/alert-batch';
import * as alertBook from '../domain/alert-book';
import * as connectors from '../domain/actions/connectors';
import * as emergency from '../domain/actions/emergency';
import * as evidence from '../domain/actions/evidence';
import * as http from '../domain/actions/http';
import * as notify from '../domain/actions/notify';
import * as quarantine from '../domain/actions/quarantine';
import * as spec from '../domain/actions/spec';
import * as task from '../domain/actions/task';
import * as classification from '../domain/classification';
import * as condition from '../domain/condition';
import * as duration from '../domain/duration';
import * as errors from '../domain/errors';
import * as escalation from '../domain/escalation';
import * as escalationPolicy from '../domain/escalation-policy';
import * as followUpReminder from '../domain/follow-up-reminder';
import * as incident from '../domain/incident';
import * as limits from '../domain/limits';
import * as messages from '../domain/messages';
import * as recurrence from '../domain/recurrence';
import * as roles from '../domain/roles';
import * as runbook from '../domain/runbook';
import * as runbookRef from '../domain/runbook-ref';
import * as severity from '../domain/severity';
import * as statusUpdates from '../domain/status-updates';
import * as stepEvent from '../domain/step-event';
import * as template from '../domain/template';
import * as timelinePage from '../domain/timeline-page';
import * as updates from '../domain/updates';
import * as urlTemplate from '../domain/url-template';
import * as utf8 from '../domain/utf8';

export const SHARED_SCHEMA_MODULES = {
  'actions/index': actions,
  'alert-batch': alertBatch,
  'alert-book': alertBook,
  'actions/connectors': connectors,
  'actions/emergency': emergency,
  'actions/evidence': evidence,
  'actions/http': http,
  'actions/notify': notify,
  'actions/quarantine': quarantine,
  'actions/spec': spec,
  'actions/task': task,
  classification,
  condition,
  duration,
  errors,
  escalation,
  'escalation-policy': escalationPolicy,
  'follow-up-reminder': followUpReminder,
  incident,
  limits,
  messages,
  recurrence,
  roles,
  runbook,
  'runbook-ref': runbookRef,
  severity,
  'status-updates': statusUpdates,
  'step-event': stepEvent,
  template,
  'timeline-page': timelinePage,
  updates,
  'url-template': urlTemplate,
  utf8,
  // zod's own patterns (z.ipv4(), z.cidrv4() ...): its checks reset their lastIndex on every parse.
  'zod/v4/core/regexes': regexes,
};

for (const exports of Object.values(SHARED_SCHEMA_MODULES)) {
  // In the bundle an exports object is a plain object; a native ES module namespace (tests) cannot be frozen and
  // needs no protection from the bundle's freeze.
  if (!Object.isFrozen(exports)) {
    try {
      Object.freeze(exports);
    } catch {
      // a native module namespace
    }
  }
}
