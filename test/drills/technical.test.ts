// Technical drills: the technical-recovery scenario with --technical against reference peers configured as staging
// (the emergency API and a control plane on loopback) performs its app.* and connector actions for real, once each,
// while notifications and evidence stay recorded. Without --technical, or with a target not marked staging, the
// drill is refused before any server starts, naming every step that would reach a non-staging target.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type EngineConfig } from '../../src/config';
import { findDrill } from '../../src/drills/load';
import { executionFor, runDrill } from '../../src/drills/runner';
import { DrillRefusedError, type StagingTargets } from '../../src/drills/technical';
import { type ControlPlaneServer, startControlPlaneServer } from '../helpers/control-plane-server';
import { type EmergencyApiServer, startEmergencyApiServer } from '../helpers/emergency-api-server';
import { tempDir } from '../helpers/incident-fixtures';

let emergency: EmergencyApiServer;
let controlPlane: ControlPlaneServer;

function stagingConfig(staging: { emergency: boolean; breakers: boolean }): EngineConfig {
  const headers = { Authorization: `Bearer ${controlPlane.token}` };
  const breaker = (state: 'open' | 'closed') => ({
    url: `${controlPlane.url}/v1/breakers/\${params.breaker}`,
    method: 'PUT' as const,
    headers,
    body: { state },
    ...(staging.breakers ? { staging: true } : {}),
  });
  return buildConfig(
    {
      channels: {},
      audiences: {},
      emergencyApi: {
        baseUrl: emergency.url,
        headers: { Authorization: `Bearer ${emergency.token}` },
        ...(staging.emergency ? { staging: true } : {}),
      },
      connectors: { 'breaker-open': breaker('open'), 'breaker-close': breaker('closed') },
      connectorFor: { 'circuitBreaker.open': 'breaker-open', 'circuitBreaker.close': 'breaker-close' },
    },
    tempDir('drill-staging'),
  );
}

const targets = (config: EngineConfig, wholeFileIsStaging = false): StagingTargets => ({
  config,
  wholeFileIsStaging,
  source: 'staging.yaml',
});

beforeAll(async () => {
  emergency = await startEmergencyApiServer();
  controlPlane = await startControlPlaneServer();
});

afterAll(async () => {
  await emergency?.close();
  await controlPlane?.close();
});

describe('technical drills', () => {
  const scenario = findDrill('technical-recovery');

  it('are refused without --technical, and --technical is refused for a tabletop scenario', () => {
    expect(scenario.mode).toBe('technical');
    expect(() => executionFor(scenario, {})).toThrow(DrillRefusedError);
    expect(() => executionFor(scenario, {})).toThrow(
      /is a technical drill .*Pass --technical .* or --tabletop to record them instead/,
    );
    expect(executionFor(scenario, { tabletop: true })).toBe('tabletop');
    expect(executionFor(scenario, { technical: true })).toBe('technical');
    expect(() => executionFor(findDrill('dos'), { technical: true })).toThrow(
      /dos is a tabletop drill .*--technical applies only to scenarios with mode: technical/,
    );
    expect(() => executionFor(scenario, { technical: true, tabletop: true })).toThrow(
      'choose --technical or --tabletop, not both',
    );
  });

  it('is refused when a target the runbook reaches is not marked staging, naming each step (and undo)', async () => {
    const config = stagingConfig({ emergency: true, breakers: false });
    const refusal = await runDrill(scenario, { technical: true, staging: targets(config) }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(refusal).toBeInstanceOf(DrillRefusedError);
    expect(refusal!.message).toBe(
      'technical drill technical-recovery refused: runbook data-corruption would act on targets not known to be staging:\n' +
        `  step contain/open-named-breaker: circuitBreaker.open would reach connector "breaker-open" (${controlPlane.url}/v1/breakers/\${params.breaker}), which is not marked staging: true in staging.yaml\n` +
        `  undo of step contain/open-named-breaker: circuitBreaker.close would reach connector "breaker-close" (${controlPlane.url}/v1/breakers/\${params.breaker}), which is not marked staging: true in staging.yaml`,
    );
    await expect(runDrill(scenario, { technical: true })).rejects.toThrow(/refused: no staging target/);
    // A --staging-config file is staging as a whole.
    expect(emergency.effects).toEqual([]);
    expect(controlPlane.effects).toEqual([]);
  });

  it('performs the app.* and connector actions against staging, once each; notifications and evidence stay recorded', async () => {
    const report = await runDrill(scenario, {
      technical: true,
      staging: targets(stagingConfig({ emergency: true, breakers: true })),
    });
    const failed = report.expectations.filter((e) => !e.passed);
    expect(failed, failed.map((e) => `${e.name}: ${e.actual}`).join('\n')).toEqual([]);
    expect(report.scenario.executed).toBe('technical');

    const key = (step: string) => `DRILL-0000-001/${step}`;
    expect(emergency.effects.map((e) => [e.change, e.key, e.detail])).toEqual([
      ['safeMode', key('safe-mode-emergency'), { from: 'Disabled', to: 'Emergency' }],
      ['restore', key('restore-backup'), expect.objectContaining({ backupId: 'latest' })],
      ['safeMode', key('return-to-normal-operation'), { from: 'Emergency', to: 'Disabled' }],
    ]);
    expect(emergency.state.safeMode).toBe('Disabled');
    expect(controlPlane.effects.map((e) => [e.op, e.key, e.detail])).toEqual([
      ['open', key('open-named-breaker'), { breaker: 'orders-writer', from: 'closed', to: 'open' }],
    ]);

    const performed = report.actions.filter((a) => a.performed).map((a) => a.activity);
    // Containment's safe mode and breaker run side by side (neither waits for the other); recovery comes after both.
    expect(performed.slice(0, 2).sort()).toEqual(['app.safeMode', 'circuitBreaker.open']);
    expect(performed.slice(2)).toEqual(['app.restoreBackup', 'app.validateIntegrity', 'app.safeMode']);
    const recorded = new Set(report.actions.filter((a) => !a.performed).map((a) => a.activity));
    expect([...recorded].sort()).toEqual(['evidence.snapshot', 'notify.send', 'notifyIncident']);
  });

  it('treats every target of a --staging-config file as staging', async () => {
    const config = stagingConfig({ emergency: false, breakers: false });
    const { stagingProblems } = await import('../../src/drills/technical');
    const { resolveRunbook } = await import('../../src/drills/load');
    const plan = resolveRunbook('data-corruption', path.resolve(import.meta.dirname, '../../runbooks'));
    expect(stagingProblems(plan, targets(config)).length).toBeGreaterThan(0);
    expect(stagingProblems(plan, targets(config, true))).toEqual([]);
  });
});
