import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import { createSqliteStore, type Store } from '../store/index.ts';
import type { WorkflowDefinition } from './workflow-definition.ts';
import { createWorkflowRunner, type WorkflowRunner } from './workflow-runner.ts';

let store: Store;
let runner: WorkflowRunner;
before(async () => {
  store = await createSqliteStore({ path: ':memory:' });
  runner = createWorkflowRunner({ store: store.workflows });
});
after(async () => {
  await runner.close();
  await store.close();
});

const definition: WorkflowDefinition = {
  id: 'inputs',
  version: 1,
  inputs: ['brief', 'count', 'audience'],
  context: {
    fields: {
      brief: { schema: { type: 'string', minLength: 3 } },
      count: { schema: { type: 'integer', minimum: 1 }, default: 1 },
      audience: {
        schema: { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] },
        default: { age: 30 },
      },
    },
    rules: [
      {
        id: 'short-brief-small-count',
        check: (values) =>
          String(values.brief).length > 5 || values.count === 1 ? true : 'too many for a short brief',
      },
    ],
  },
  nodes: { a: { type: 'transform', fn: () => 1 } },
};

/** The error a start with this input is refused with. */
async function refusal(input: Record<string, unknown>): Promise<PipewrightError> {
  try {
    await runner.start(definition, input);
  } catch (error) {
    assert.ok(PipewrightError.isInstance(error), String(error));
    return error;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

test('every workflow.input_invalid error names the input field at fault', async () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{}, 'brief', /"brief" is required/],
    [{ brief: 'tea for all', colour: 'red' }, 'colour', /"colour" is not an input/],
    // A value that breaks its field's schema: the field is named, not just the message.
    [{ brief: 'no' }, 'brief', /brief: .*(fewer|short|must NOT)/i],
    [{ brief: 'tea for all', count: 0 }, 'count', /count: .*>= 1/],
    [{ brief: 'tea for all', audience: { age: 'old' } }, 'audience', /audience: .*age.*integer/],
    // A rule over several fields names the input as a whole.
    [{ brief: 'tea', count: 3 }, 'input', /rule short-brief-small-count: too many for a short brief/],
  ];
  for (const [input, param, message] of cases) {
    const error = await refusal(input);
    assert.deepEqual(
      [error.code, error.param],
      ['workflow.input_invalid', param],
      `${JSON.stringify(input)} → ${error.message}`,
    );
    assert.match(error.message, message);
  }
});

test('bad concurrency and a non-object input name their parameter', async () => {
  assert.equal(
    (await refusalOf(() => runner.start(definition, { brief: 'tea' }, { concurrency: 0 }))).param,
    'concurrency',
  );
  assert.equal((await refusalOf(() => runner.start(definition, [] as never))).param, 'input');
});

async function refusalOf(start: () => Promise<unknown>): Promise<PipewrightError> {
  try {
    await start();
  } catch (error) {
    assert.ok(PipewrightError.isInstance(error) && error.code === 'workflow.input_invalid', String(error));
    return error;
  }
  assert.fail('accepted');
}
