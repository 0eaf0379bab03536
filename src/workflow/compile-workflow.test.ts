import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { PipewrightError } from '../core/index.ts';
import { compileWorkflow } from './compile-workflow.ts';
import { loadWorkflow } from './load-workflow.ts';
import { WorkflowDefinitionError } from './workflow-definition-error.ts';
import { defineWorkflow, type WorkflowDefinition } from './workflow-definition.ts';

const functions = {
  transforms: {
    pick: (input: unknown) => input,
    count: {
      run: (input: unknown) => (Array.isArray(input) ? input.length : 0),
      input: { type: 'array' },
      output: { type: 'integer' },
    },
  },
  gates: { brand: () => ({ pass: true }) },
};

/** The problems a definition is rejected with, as `path: message`. */
function problemsOf(definition: unknown): Array<{ path: string; message: string }> {
  try {
    compileWorkflow(definition as WorkflowDefinition, functions);
  } catch (error) {
    assert.ok(
      error instanceof WorkflowDefinitionError,
      `expected a WorkflowDefinitionError, got ${String(error)}`,
    );
    assert.equal(error.code, 'workflow.definition_invalid');
    return error.problems;
  }
  assert.fail('the definition was accepted');
}

function base(
  nodes: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  extraFields: Record<string, unknown> = {},
): unknown {
  return {
    id: 'flow',
    version: 1,
    inputs: ['brief'],
    context: {
      fields: {
        brief: { schema: { type: 'string' } },
        audiences: { schema: { type: 'array', items: { type: 'string' } } },
        count: { schema: { type: 'integer' } },
        headline: { schema: { type: 'string' }, group: 'copy' },
        body: { schema: { type: 'string' }, group: 'copy' },
        ...extraFields,
      },
    },
    nodes,
    ...extra,
  };
}

const yamlFlow = `
id: campaign
version: 2
inputs: [brief]
outputs:
  chosen: $context.chosen
context:
  fields:
    brief: { schema: { type: string, minLength: 1 }, group: campaign }
    channels: { schema: { type: array, items: { type: string } }, default: [email, social] }
    variants: { schema: { type: array } }
    chosen: { schema: { type: string } }
  history: { maxVersions: 10 }
nodes:
  write:
    type: map
    over: $context.channels
    concurrency: 2
    node: { type: model, modelGroup: fast, prompt: "Write for {{input.channel}}: {{input.brief}}", input: { channel: $item, brief: $context.brief } }
    writes: { variants: $output }
  check:
    type: gate
    target: write
    check: brand
    onFail: rerun
  choose:
    type: transform
    fn: pick
    input: $context.variants[0]
    writes: { chosen: $output }
`;

describe('compileWorkflow: what loads', () => {
  test('a YAML definition loads with implied dependencies, gates ordered before dependents, and defaults', () => {
    const flow = loadWorkflow(yamlFlow, functions);
    assert.equal(flow.id, 'campaign');
    assert.equal(flow.version, 2);
    assert.deepEqual([...(flow.nodes.get('check')?.deps ?? [])], ['write']);
    // choose reads variants (written by write) and so also waits for the gate on write.
    assert.deepEqual([...(flow.nodes.get('choose')?.deps ?? [])].sort(), ['check', 'write']);
    assert.deepEqual(flow.fields.get('channels')?.default, ['email', 'social']);
    assert.equal(flow.maxVersions, 10);
    assert.deepEqual([...flow.needed].sort(), ['check', 'choose', 'write']);
    assert.match(flow.hash, /^[0-9a-f]{64}$/);
  });

  test('the same workflow in TypeScript, with zod fields and inline functions', () => {
    const flow = compileWorkflow(
      defineWorkflow({
        id: 'ts',
        version: 1,
        inputs: ['items'],
        outputs: { total: '$context.total' },
        context: { fields: { items: { schema: z.array(z.string()) }, total: { schema: z.number().int() } } },
        nodes: {
          sum: {
            type: 'transform',
            fn: (input) => (input as string[]).length,
            input: '$context.items',
            writes: { total: '$output' },
          },
        },
      }),
    );
    assert.deepEqual(flow.fields.get('items')?.jsonSchema?.type, 'array');
    assert.ok(flow.nodes.get('sum')?.transform !== undefined);
  });

  test('a changed function changes the hash, so a resume can refuse it', () => {
    const make = (fn: (input: unknown) => unknown) =>
      compileWorkflow({
        id: 'h',
        version: 1,
        context: { fields: {} },
        nodes: { a: { type: 'transform', fn } },
      });
    assert.notEqual(make((input) => input).hash, make((input) => [input]).hash);
    assert.equal(make((input) => input).hash, make((input) => input).hash);
  });

  test('without declared outputs every node is needed; with them, only what they need (and always nodes)', () => {
    const nodes = {
      a: { type: 'transform', fn: 'pick' },
      b: { type: 'transform', fn: 'pick', input: '$nodes.a.output' },
      c: { type: 'transform', fn: 'pick', always: true },
      d: { type: 'transform', fn: 'pick' },
    };
    assert.equal(compileWorkflow(base(nodes) as WorkflowDefinition, functions).needed.size, 4);
    const lazy = compileWorkflow(
      base(nodes, { outputs: { result: '$nodes.b.output' } }) as WorkflowDefinition,
      functions,
    );
    assert.deepEqual([...lazy.needed].sort(), ['a', 'b', 'c']);
  });
});

describe('compileWorkflow: every problem reported with its path', () => {
  test('a cycle is named node by node', () => {
    const problems = problemsOf(
      base({
        a: { type: 'transform', fn: 'pick', after: ['c'] },
        b: { type: 'transform', fn: 'pick', input: '$nodes.a.output' },
        c: { type: 'transform', fn: 'pick', after: ['b'] },
      }),
    );
    const cycle = problems.find((problem) => problem.message.startsWith('cycle:'));
    assert.ok(cycle !== undefined, JSON.stringify(problems));
    for (const id of ['a', 'b', 'c']) assert.match(cycle.message, new RegExp(`\\b${id}\\b`));
    assert.match(cycle.path, /^nodes\.[abc]$/);
  });

  test('unknown references: fields, nodes, functions, after, outputs', () => {
    const problems = problemsOf(
      base(
        {
          a: {
            type: 'transform',
            fn: 'nope',
            input: { x: '$context.missing', y: '$nodes.ghost.output' },
            after: ['phantom'],
          },
          g: { type: 'gate', target: 'a', check: 'unregistered' },
        },
        { outputs: { out: '$context.nothing' } },
      ),
    );
    const paths = problems.map((problem) => problem.path);
    for (const expected of [
      'nodes.a.fn',
      'nodes.a.input.x',
      'nodes.a.input.y',
      'nodes.a.after[0]',
      'nodes.g.check',
      'outputs.out',
    ]) {
      assert.ok(paths.includes(expected), `${expected} missing from ${paths.join(', ')}`);
    }
    assert.match(
      problems.find((problem) => problem.path === 'nodes.a.fn')?.message ?? '',
      /registered: pick, count/,
    );
  });

  test('bindings whose types do not match: a list into a string field, a string into a transform that takes a list, a map over a non-list', () => {
    const problems = problemsOf(
      base({
        a: {
          type: 'transform',
          fn: 'pick',
          output: { type: 'array', items: { type: 'string' } },
          writes: { headline: '$output' },
        },
        b: { type: 'transform', fn: 'count', input: '$context.brief' },
        c: { type: 'map', over: '$context.brief', node: { type: 'transform', fn: 'pick' } },
        d: { type: 'transform', fn: 'count', input: '$context.audiences', writes: { brief: '$output' } },
      }),
    );
    const byPath = new Map(problems.map((problem) => [problem.path, problem.message]));
    assert.match(byPath.get('nodes.a.writes.headline') ?? '', /array is not string/);
    assert.match(byPath.get('nodes.b.input') ?? '', /string is not array/);
    assert.match(byPath.get('nodes.c.over') ?? '', /must be a list/);
    assert.match(byPath.get('nodes.d.writes.brief') ?? '', /integer is not string/);
  });

  test('a path into a value that cannot have it is caught', () => {
    const problems = problemsOf(
      base({ a: { type: 'transform', fn: 'pick', input: '$context.brief.title' } }),
    );
    assert.equal(problems[0]?.path, 'nodes.a.input');
    assert.match(problems[0]?.message ?? '', /cannot read \.title of string/);
  });

  test('a node writing or reading a field it may not', () => {
    const problems = problemsOf(
      base(
        {
          trusted: { type: 'transform', fn: 'pick', writes: { secret: '$output' } },
          rogue: { type: 'transform', fn: 'pick', output: { type: 'string' }, writes: { secret: '$output' } },
          snoop: { type: 'transform', fn: 'pick', input: '$context.secret' },
          narrow: { type: 'transform', fn: 'pick', reads: ['group:copy'], input: '$context.brief' },
        },
        {},
        { secret: { schema: { type: 'string' }, access: { read: ['trusted'], write: ['trusted'] } } },
      ),
    );
    const byPath = new Map(problems.map((problem) => [problem.path, problem.message]));
    assert.match(byPath.get('nodes.rogue.writes.secret') ?? '', /may not write context field "secret"/);
    assert.match(byPath.get('nodes.snoop.input') ?? '', /may not read context field "secret"/);
    assert.match(
      byPath.get('nodes.narrow.reads') ?? '',
      /binds \$context\.brief but its reads do not include it/,
    );
  });

  test('a gate on nothing, on itself, and a rerun of something that cannot re-run', () => {
    const problems = problemsOf(
      base({
        a: { type: 'branch', cases: [{ when: { ref: '$context.brief', exists: true }, then: [] }] },
        g1: { type: 'gate', target: 'missing', check: 'brand' },
        g2: { type: 'gate', target: 'g2', check: 'brand' },
        g3: { type: 'gate', target: 'a', check: 'brand', onFail: 'rerun' },
      }),
    );
    const byPath = new Map(problems.map((problem) => [problem.path, problem.message]));
    assert.match(byPath.get('nodes.g1.target') ?? '', /a gate on nothing/);
    assert.match(byPath.get('nodes.g2.target') ?? '', /cannot check itself/);
    assert.match(byPath.get('nodes.g3.onFail') ?? '', /rerun needs a model, transform or map target/);
  });

  test('two unordered writers of one field, unless different cases of one branch choose them', () => {
    const problems = problemsOf(
      base({
        a: { type: 'transform', fn: 'pick', writes: { body: '$output' } },
        b: { type: 'transform', fn: 'pick', writes: { body: '$output' } },
      }),
    );
    assert.equal(problems[0]?.path, 'nodes.b.writes.body');
    assert.match(problems[0]?.message ?? '', /both write "body" with no order/);

    const exclusive = base({
      route: {
        type: 'branch',
        cases: [{ when: { ref: '$context.brief', equals: 'x' }, then: ['a'] }],
        otherwise: ['b'],
      },
      a: { type: 'transform', fn: 'pick', writes: { body: '$output' } },
      b: { type: 'transform', fn: 'pick', writes: { body: '$output' } },
    });
    assert.doesNotThrow(() => compileWorkflow(exclusive as WorkflowDefinition, functions));
  });

  test('the shape is checked by zod with paths: unknown keys, bad types, a bad id', () => {
    const problems = problemsOf({
      id: 'has space',
      version: 0,
      context: { fields: {} },
      nodes: { a: { type: 'transform', fn: 'pick', colour: 'red' }, b: { type: 'teleport' } },
    });
    const paths = problems.map((problem) => problem.path);
    assert.ok(paths.includes('id'), paths.join(', '));
    assert.ok(paths.includes('version'));
    assert.ok(paths.some((path) => path.startsWith('nodes.a')));
    assert.ok(paths.some((path) => path.startsWith('nodes.b')));
  });

  test('a default that breaks its schema, an unknown input, a substitute that is not standby, $item outside a map', () => {
    const problems = problemsOf({
      id: 'f',
      version: 1,
      inputs: ['ghost'],
      context: { fields: { n: { schema: { type: 'integer', minimum: 0 }, default: -1 } } },
      nodes: {
        a: { type: 'transform', fn: 'pick', input: '$item', onError: { action: 'substitute', node: 'b' } },
        b: { type: 'transform', fn: 'pick' },
      },
    });
    const paths = problems.map((problem) => problem.path);
    for (const expected of ['context.fields.n.default', 'inputs[0]', 'nodes.a.input', 'nodes.a.onError.node'])
      assert.ok(paths.includes(expected), `${expected} missing from ${paths.join(', ')}`);
  });

  test('YAML syntax errors name the line; a YAML list is refused', () => {
    assert.throws(
      () => loadWorkflow('id: x\nnodes: [a\n', functions),
      (error: unknown) =>
        PipewrightError.isInstance(error) &&
        error.code === 'workflow.definition_invalid' &&
        /line \d/.test(error.message),
    );
    assert.throws(() => loadWorkflow('- a\n- b\n', functions), /must be a YAML mapping/);
  });
});
