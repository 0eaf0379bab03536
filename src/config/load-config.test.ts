import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/index.ts';
import { loadConfigFile, parseConfig } from './load-config.ts';

const valid = {
  deployments: [
    {
      id: 'a',
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'https://api.openai.com/v1/',
      apiKey: '${OPENAI_API_KEY}',
    },
  ],
  modelGroups: [{ name: 'fast', deployments: ['a'] }],
};

test('expands ${ENV} and applies defaults', () => {
  const config = parseConfig(valid, { OPENAI_API_KEY: 'sk-test' });
  assert.equal(config.deployments[0]?.apiKey, 'sk-test');
  assert.equal(config.deployments[0]?.baseUrl, 'https://api.openai.com/v1');
  assert.equal(config.server.host, '127.0.0.1');
  assert.equal(config.server.port, 4000);
  assert.equal(config.store.path, '.pipewright/pipewright.db');
});

test('a missing environment variable names the config path', () => {
  assert.throws(
    () => parseConfig(valid, {}),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.param === 'deployments[0].apiKey' &&
      /OPENAI_API_KEY/.test(error.message),
  );
});

test('${VAR:-default} falls back to the default', () => {
  const config = parseConfig({ ...valid, server: { port: '${PORT:-4100}' } }, { OPENAI_API_KEY: 'k' });
  assert.equal(config.server.port, 4100);
});

test('the master key comes from PIPEWRIGHT_MASTER_KEY when the file does not set it', () => {
  const config = parseConfig(valid, { OPENAI_API_KEY: 'k', PIPEWRIGHT_MASTER_KEY: 'a-very-long-master-key' });
  assert.equal(config.server.masterKey, 'a-very-long-master-key');
});

test('schema errors name the path of the bad field', () => {
  assert.throws(
    () => parseConfig({ deployments: [{ id: 'a', provider: 'nope', model: 'm', baseUrl: 'http://x' }] }),
    (error: unknown) => error instanceof ConfigError && error.param === 'deployments[0].provider',
  );
  assert.throws(
    () => parseConfig({ server: { port: 99999 } }),
    (error: unknown) => error instanceof ConfigError && error.param === 'server.port',
  );
  assert.throws(
    () => parseConfig({ servr: {} }),
    (error: unknown) => error instanceof ConfigError && /servr/.test(error.message),
  );
});

test('references between parts are checked', () => {
  assert.throws(
    () =>
      parseConfig(
        { ...valid, modelGroups: [{ name: 'fast', deployments: ['a', 'missing'] }] },
        { OPENAI_API_KEY: 'k' },
      ),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.param === 'modelGroups[0].deployments[1]' &&
      /unknown deployment "missing"/.test(error.message),
  );
  assert.throws(
    () =>
      parseConfig(
        { ...valid, stepTypes: [{ name: 's', modelGroup: 'nope', prompt: 'x' }] },
        { OPENAI_API_KEY: 'k' },
      ),
    (error: unknown) => error instanceof ConfigError && error.param === 'stepTypes[0].modelGroup',
  );
  assert.throws(
    () =>
      parseConfig({
        deployments: [{ id: 'z', provider: 'azure', model: 'gpt-4o', baseUrl: 'https://x.openai.azure.com' }],
      }),
    (error: unknown) => error instanceof ConfigError && error.param === 'deployments[0].options.apiVersion',
  );
});

test('resilience settings: defaults, per-deployment and per-group keys, and checked references', () => {
  const env = { OPENAI_API_KEY: 'k' };
  const config = parseConfig(valid, env);
  assert.equal(config.resilience.overflow, 'queue');
  assert.equal(config.resilience.waitForRecoveryMs, 30_000);
  assert.equal(config.modelGroups[0]?.strategy, 'ordered');
  assert.deepEqual(config.modelGroups[0]?.fallbacks, []);
  const tuned = parseConfig(
    {
      deployments: [
        {
          ...valid.deployments[0],
          weight: 2,
          maxInFlight: 8,
          retry: { maxAttempts: 4 },
          timeouts: { firstTokenMs: 5000 },
          breaker: { openMs: 1000 },
        },
        { ...valid.deployments[0], id: 'b' },
      ],
      modelGroups: [
        {
          name: 'fast',
          deployments: ['a', 'b'],
          strategy: 'weighted',
          fallbacks: ['long'],
          contextLengthFallback: 'long',
        },
        { name: 'long', deployments: ['b'] },
      ],
      resilience: { deadlineMs: 30_000, maxInFlightPerTenant: 50, overflow: 'reject' },
    },
    env,
  );
  assert.equal(tuned.deployments[0]?.retry?.maxAttempts, 4);
  assert.equal(tuned.modelGroups[0]?.strategy, 'weighted');
  const rejects = (input: unknown, param: string) =>
    assert.throws(
      () => parseConfig(input, env),
      (error: unknown) => error instanceof ConfigError && error.param === param,
      param,
    );
  rejects(
    { ...valid, modelGroups: [{ name: 'fast', deployments: ['a'], fallbacks: ['nowhere'] }] },
    'modelGroups[0].fallbacks[0]',
  );
  rejects(
    { ...valid, modelGroups: [{ name: 'fast', deployments: ['a'], contentFilterFallback: 'fast' }] },
    'modelGroups[0].contentFilterFallback',
  );
  rejects(
    { ...valid, modelGroups: [{ name: 'fast', deployments: ['a'], strategy: 'random' }] },
    'modelGroups[0].strategy',
  );
  rejects({ ...valid, resilience: { retry: { maxAttempts: 0 } } }, 'resilience.retry.maxAttempts');
  rejects({ ...valid, resilience: { breaker: { failureRate: 1.5 } } }, 'resilience.breaker.failureRate');
  rejects({ ...valid, resilience: { retries: 3 } }, 'resilience');
});

test('loadConfigFile reports YAML syntax errors with the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-config-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'deployments: [\n  - id: a\n');
  assert.throws(
    () => loadConfigFile(bad, {}),
    (error: unknown) =>
      error instanceof ConfigError && error.message.includes('bad.yaml') && /YAML/.test(error.message),
  );
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'modelGroups: []\ndeployments: []\n');
  assert.deepEqual(loadConfigFile(good, {}).modelGroups, []);
  assert.throws(
    () => loadConfigFile(join(dir, 'missing.yaml'), {}),
    (error: unknown) => error instanceof ConfigError && /cannot read/.test(error.message),
  );
});

test('resilience.connectTimeoutMs defaults to 10 s and must be positive', () => {
  assert.equal(parseConfig({}).resilience.connectTimeoutMs, 10_000);
  assert.throws(
    () => parseConfig({ resilience: { connectTimeoutMs: 0 } }),
    (error: unknown) => error instanceof ConfigError && error.param === 'resilience.connectTimeoutMs',
  );
});
