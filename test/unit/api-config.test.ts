// The `api:` section of incident-engine.yaml: defaults for a first run (loopback, port 8080, 1 MiB bodies, keys in
// the data dir), overrides, and errors that name the file, line and field.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineConfigFile, buildConfig, loadConfig } from '../../src/config';
import { tempDir } from '../helpers/incident-fixtures';

describe('api config', () => {
  it('has working defaults', () => {
    const config = buildConfig(EngineConfigFile.parse({}), '/srv/engine');
    expect(config.api).toMatchObject({
      enabled: true,
      host: '127.0.0.1',
      port: 8080,
      bodyLimitBytes: 1024 * 1024,
      signatureToleranceSeconds: 300,
      trustProxy: false,
      keysFile: '/srv/engine/.data/api-keys.json',
      rateLimit: { viewer: 600, detector: 6000, operator: 600, commander: 600, anonymous: 120 },
    });
  });

  it('takes overrides and names the line of a bad field', () => {
    const dir = tempDir('api-config');
    writeFileSync(
      path.join(dir, 'incident-engine.yaml'),
      'api:\n  port: 9090\n  rateLimit: { viewer: 5 }\n  keysFile: keys.json\n',
    );
    const config = loadConfig(dir, {});
    expect(config.api).toMatchObject({
      port: 9090,
      keysFile: path.join(dir, 'keys.json'),
      rateLimit: { viewer: 5, detector: 6000 },
    });
    writeFileSync(path.join(dir, 'incident-engine.yaml'), 'api:\n  port: eighty\n');
    expect(() => loadConfig(dir, {})).toThrow(/incident-engine\.yaml:2:9: api\.port/);
  });
});
