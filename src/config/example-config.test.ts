import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from './load-config.ts';

const examplePath = fileURLToPath(new URL('../../examples/pipewright.yaml', import.meta.url));

test('examples/pipewright.yaml is a valid config as it is (no provider keys set)', () => {
  const config = loadConfigFile(examplePath, { PIPEWRIGHT_MASTER_KEY: 'example-master-key-0123456789' });
  assert.deepEqual(
    config.modelGroups.map((group) => group.name),
    ['fast', 'local'],
  );
  assert.equal(config.cache.stepTypes['answer-faq']?.semantic?.enabled, true);
  assert.ok(config.stepTypes.some((step) => step.name === 'answer-faq'));
});
