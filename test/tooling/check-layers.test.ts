// `npm run check:layers` (scripts/check-layers.mjs with the rules of .dependency-cruiser.mjs) run on
// small source trees: a tree that follows docs/architecture.md passes, and each kind of break fails
// the build with the rule that names it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

const script = fileURLToPath(new URL('../../scripts/check-layers.mjs', import.meta.url));
const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

interface Finding {
  rule: string;
  from: string;
  to: string;
  cycle?: string[];
}

/** Writes `files` (path under the root → source) into a fresh folder and checks it. */
function checkTree(files: Record<string, string>): { exitCode: number | null; violations: Finding[] } {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  roots.push(root);
  const tsconfig = {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      noEmit: true,
    },
  };
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify(tsconfig));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module' }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  const run = spawnSync(process.execPath, [script, '--root', root, '--json'], { encoding: 'utf8' });
  assert.equal(run.stderr, '', run.stderr);
  const report = JSON.parse(run.stdout) as { violations: Finding[]; known: Finding[]; stale: Finding[] };
  assert.deepEqual([report.known, report.stale], [[], []], 'a fixture has no known violations');
  return { exitCode: run.status, violations: report.violations };
}

const layered = {
  'src/core/index.ts': 'export const id = 1;\n',
  'src/spec/index.ts': "import { id } from '../core/index.ts';\nexport const spec = id;\n",
  'src/providers/index.ts': "import { spec } from '../spec/index.ts';\nexport const provider = spec;\n",
  'src/telemetry/index.ts': 'export interface CallRecord { id: string }\n',
  'src/cache/index.ts':
    "import type { CallRecord } from '../telemetry/index.ts';\nexport const cache = (record: CallRecord) => record.id;\n",
  'src/store/index.ts':
    "import { cache } from '../cache/index.ts';\nexport interface Store { read(): string }\nexport const store = cache;\n",
  'src/engine/index.ts': "export { createEngine } from './create-engine.ts';\n",
  'src/engine/create-engine.ts':
    "import { provider } from '../providers/index.ts';\nimport { cache } from '../cache/index.ts';\nexport const createEngine = () => [provider, cache];\n",
  'src/config/index.ts':
    "import { createEngine } from '../engine/index.ts';\nexport const config = createEngine;\n",
  'src/workflow/index.ts':
    "import type { Store } from '../store/index.ts';\nimport { createEngine } from '../engine/index.ts';\nexport const run = (store: Store) => [store, createEngine];\n",
  'src/server/index.ts':
    "import { run } from '../workflow/index.ts';\nimport { config } from '../config/index.ts';\nexport const serve = [run, config];\n",
  'src/main.ts': "import { serve } from './server/index.ts';\nexport const main = serve;\n",
  'src/cli/index.ts': "import { main } from '../main.ts';\nexport const cli = main;\n",
};

test('a tree that follows docs/architecture.md passes', () => {
  const result = checkTree(layered);
  assert.deepEqual(result.violations, []);
  assert.equal(result.exitCode, 0);
});

test('each break of the layers fails with the rule that names it', () => {
  const result = checkTree({
    ...layered,
    // engine/ takes typed settings: it must not read config/, nor reach the store directly.
    'src/engine/read-settings.ts':
      "import { config } from '../config/index.ts';\nimport { store } from '../store/index.ts';\nexport const settings = [config, store];\n",
    // A lower layer importing a higher one.
    'src/core/clock.ts': "import { spec } from '../spec/index.ts';\nexport const clock = spec;\n",
    // Another folder's internals instead of its index.ts.
    'src/workflow/step.ts':
      "import { createEngine } from '../engine/create-engine.ts';\nexport const step = createEngine;\n",
    // The composition root does not import the CLI that sits on top of it.
    'src/pipewright.ts': "import { cli } from './cli/index.ts';\nexport const pipewright = cli;\n",
    // A folder that has no place in the layers yet.
    'src/extras/tool.ts': "import { id } from '../core/index.ts';\nexport const tool = id;\n",
    // Production code does not import test helpers or test/.
    'src/server/test-support.ts': 'export const fakeServer = 1;\n',
    'src/server/routes.ts':
      "import { fakeServer } from './test-support.ts';\nimport { fake } from '../../test/support/fake.ts';\nexport const routes = [fakeServer, fake];\n",
    'test/support/fake.ts': 'export const fake = 1;\n',
  });
  const found = result.violations.map(
    (violation) => `${violation.rule}: ${violation.from} → ${violation.to}`,
  );
  assert.deepEqual(found.sort(), [
    'layer-core: src/core/clock.ts → src/spec/index.ts',
    'layer-engine: src/engine/read-settings.ts → src/config/index.ts',
    'layer-engine: src/engine/read-settings.ts → src/store/index.ts',
    'layer-pipewright: src/pipewright.ts → src/cli/index.ts',
    'layer-unplaced: src/extras/tool.ts → src/core/index.ts',
    'not-outside-src: src/server/routes.ts → test/support/fake.ts',
    'not-to-tests: src/server/routes.ts → src/server/test-support.ts',
    'through-index: src/workflow/step.ts → src/engine/create-engine.ts',
  ]);
  assert.equal(result.exitCode, 1);
});

test('a cycle between files fails, even through a type-only import', () => {
  const result = checkTree({
    ...layered,
    'src/cache/entry.ts':
      "import type { Policy } from './policy.ts';\nexport interface Entry { policy: Policy }\n",
    'src/cache/policy.ts':
      "import type { Entry } from './entry.ts';\nexport interface Policy { entries: Entry[] }\n",
  });
  assert.ok(result.violations.length > 0);
  for (const violation of result.violations) {
    assert.equal(violation.rule, 'no-circular');
    assert.deepEqual([...(violation.cycle ?? [])].sort(), ['src/cache/entry.ts', 'src/cache/policy.ts']);
  }
  assert.equal(result.exitCode, 1);
});

test('tests may reach into what they test, across layers', () => {
  const result = checkTree({
    ...layered,
    'src/engine/create-engine.test.ts':
      "import { createEngine } from './create-engine.ts';\nimport { run } from '../workflow/index.ts';\nimport { config } from '../config/index.ts';\nimport { provider } from '../providers/index.ts';\nexport const used = [createEngine, run, config, provider];\n",
    'src/cache/cache.test.ts':
      "import { createEngine } from '../engine/create-engine.ts';\nexport const used = createEngine;\n",
  });
  assert.deepEqual(result.violations, []);
  assert.equal(result.exitCode, 0);
});
