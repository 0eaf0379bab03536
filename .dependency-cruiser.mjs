// The layers of docs/architecture.md, checked by dependency-cruiser in `npm test` (`npm run check:layers`).
//
//   core ← spec ← providers ← telemetry ← resilience / cache / routing / gates / governance
//        ← engine ← config, workflow ← server ← main.ts, pipewright.ts, index.ts ← cli
//
// store/ implements the interfaces of the layers below the engine (it may import them) and is
// reached through interfaces passed in: engine/ and everything below it never import store/;
// workflow/, server/, cli/ and the composition roots may. config/ builds typed settings (it may
// import engine/ and below); engine/ never imports config/, and workflow/ does not either.
//
// Each folder of src/ lists the folders it may import from (`layers` below); anything else in src/
// is forbidden, so a new folder must be placed here before it can import or be imported. Besides the
// layers: no file cycles anywhere in src/ (type-only imports count: they are cycles of the design),
// a folder is used from outside through its index.ts (a sub-package such as providers/sim/ through its
// own index.ts), production code never imports tests, test helpers, bench/ or scripts/, nor a
// devDependency. Tests (`*.test.ts`), contract suites (`*-contract.ts`, `contract-fixtures.ts`),
// test helpers (`test-support.ts`, `*-test-support.ts`) and `__fixtures__/` are exempt from the layer
// and index rules (a test may reach into what it tests), not from the cycle rule.
//
// Known violations are listed at the end with the reason and who removes them; they are ignored by
// the check, and `scripts/check-layers.mjs` fails when one of them no longer occurs (delete it then).

/** Files that are tests or serve only tests. */
const testFiles = [
  '\\.test\\.ts$',
  '-contract\\.ts$',
  '/contract-fixtures\\.ts$',
  'test-support\\.ts$',
  '/__fixtures__/',
];

const below = {
  core: [],
  spec: ['core'],
  providers: ['core', 'spec'],
  // Call records, metrics and the price catalog: every layer above may report to telemetry.
  telemetry: ['core', 'spec', 'providers'],
};
const policies = [...below.telemetry, 'telemetry'];

/** Folder → the folders it may import from (besides itself). */
const layers = {
  ...below,
  // Siblings: none imports another (decide a direction in docs/architecture.md first).
  resilience: policies,
  cache: policies,
  routing: policies,
  gates: policies,
  governance: policies,
  // The store implements the interfaces the layers below it declare (cache entries, call records).
  store: [...policies, 'resilience', 'cache', 'governance'],
  // The engine takes typed settings and reaches the store only through interfaces passed in.
  engine: [...policies, 'resilience', 'cache', 'routing', 'gates', 'governance'],
  // Only config/ reads the YAML schema; it builds the typed settings of the layers below it.
  config: [...policies, 'resilience', 'cache', 'routing', 'gates', 'governance', 'engine'],
  workflow: [...policies, 'resilience', 'cache', 'routing', 'gates', 'governance', 'engine', 'store'],
  server: [
    ...policies,
    ...['resilience', 'cache', 'routing', 'gates', 'governance', 'store', 'engine', 'config', 'workflow'],
  ],
};
const folders = Object.keys(layers);
const everyFolder = [...folders];
/** The composition roots and the public entry: every folder but cli/. */
const roots = ['main.ts', 'pipewright.ts', 'index.ts'];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const folderPattern = (names) => `^src/(${names.map(escape).join('|')})/`;
const rootPattern = (names) => `^src/(${names.map(escape).join('|')})$`;

const layerRules = [
  ...folders.map((folder) => ({
    name: `layer-${folder}`,
    comment: `src/${folder}/ may import only from ${layers[folder].length === 0 ? 'itself' : layers[folder].map((name) => `${name}/`).join(', ')} (docs/architecture.md)`,
    severity: 'error',
    from: { path: `^src/${escape(folder)}/`, pathNot: testFiles },
    to: { path: '^src/', pathNot: folderPattern([folder, ...layers[folder]]) },
  })),
  ...roots.map((root) => ({
    name: `layer-${root.replace(/\.ts$/, '')}`,
    comment: `src/${root} may import every folder but cli/ (the CLI sits on top and calls the composition roots)`,
    severity: 'error',
    from: { path: rootPattern([root]) },
    to: { path: '^src/', pathNot: [folderPattern(everyFolder), rootPattern(roots)] },
  })),
  {
    name: 'layer-cli',
    comment: 'src/cli/ (the `pipewright` command) may import every folder and the composition roots',
    severity: 'error',
    from: { path: '^src/cli/', pathNot: testFiles },
    to: { path: '^src/', pathNot: [folderPattern([...everyFolder, 'cli']), rootPattern(roots)] },
  },
  {
    name: 'layer-unplaced',
    comment:
      'a file of src/ outside the known folders: add its folder to `layers` in .dependency-cruiser.mjs (and to docs/architecture.md)',
    severity: 'error',
    from: {
      path: '^src/',
      pathNot: [folderPattern([...everyFolder, 'cli']), rootPattern(roots), ...testFiles],
    },
    to: { path: '^src/' },
  },
];

/**
 * The violations that existed when the check was introduced. Each is ignored by the check and
 * reported by `npm run check:layers`; the check fails once one of them no longer occurs, so this
 * list only shrinks. Do not add to it: fix the dependency instead.
 */
export const knownViolations = [];

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles between files in src/, type-only imports included (issue 9)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'through-index',
      comment:
        "another folder is used through its index.ts (or a sub-package's, such as providers/sim/index.ts), not its internals",
      severity: 'error',
      from: { path: '^src/([^/]+)', pathNot: testFiles },
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/[^/]+/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'not-to-tests',
      comment: 'production code in src/ never imports tests, contract suites or test helpers',
      severity: 'error',
      from: { path: '^src/', pathNot: testFiles },
      to: { path: testFiles },
    },
    {
      name: 'not-outside-src',
      comment: 'src/ never imports test/, bench/, scripts/ or examples/',
      severity: 'error',
      from: { path: '^src/', pathNot: testFiles },
      to: { path: '^(test|bench|scripts|examples)/' },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'production code in src/ uses dependencies, never devDependencies (they are not installed for users)',
      severity: 'error',
      from: { path: '^src/', pathNot: testFiles },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-non-package-json',
      comment: 'every package src/ imports is declared in package.json',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import of src/ resolves to a file on disk',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a cycle through `import type` is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
    knownViolations,
  },
};
