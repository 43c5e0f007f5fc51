// What the route modules share: the Temporal client, the runbooks, the alert intake, metrics and settings. Built once
// by server.ts; routes never open connections of their own.
import type { IncidentClient } from '../client';
import type { ApiConfig } from '../config';
import type { RunbookPlan } from '../../domain/runbook';
import type { AlertIntake } from './intake/dispatch';
import type { ApiMetrics } from './metrics';

export interface ApiContext {
  incidents: IncidentClient;
  runbooks: () => Map<string, RunbookPlan>;
  intake: AlertIntake;
  metrics: ApiMetrics;
  config: ApiConfig;
  /** host:port of Temporal, for readiness messages. */
  temporalAddress: string;
  now: () => number;
  /** The engine's data directory (reviews written at close, the closed-incident summary store). */
  dataDir?: string;
}
