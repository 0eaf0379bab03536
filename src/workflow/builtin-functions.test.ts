import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinFunctions, withBuiltinFunctions } from './builtin-functions.ts';
import type { NodeCallContext } from './workflow-definition.ts';

function call(parameters: Record<string, unknown> = {}): NodeCallContext {
  return {
    runId: 'r',
    nodeId: 'n',
    tenantId: 't',
    attempt: 1,
    idempotencyKey: 'r:n:1',
    context: { version: 0, get: async () => undefined },
    parameters,
    feedback: [],
    signal: new AbortController().signal,
  };
}

test('text-check gives a reason per problem and a score per passing text', async () => {
  const check = builtinFunctions.gates?.['text-check'];
  assert.ok(check !== undefined);
  const verdict = await check(
    ['Calm tea for busy days', 'The cheapest tea, guaranteed!'],
    call({ mustNotInclude: ['cheap', 'Guaranteed'], maxLength: 25, mustInclude: ['tea'] }),
  );
  assert.equal(verdict.pass, false);
  assert.equal(verdict.score, 0.5);
  assert.deepEqual(verdict.reasons, [
    'item 1: longer than 25 characters',
    'item 1: uses "cheap"',
    'item 1: uses "Guaranteed"',
  ]);
  assert.deepEqual(await check('Calm tea', call({ minLength: 3, mustInclude: ['TEA'] })), {
    pass: true,
    score: 1,
    reasons: [],
  });
});

test('shortest, longest, first and join', () => {
  const transforms = builtinFunctions.transforms ?? {};
  const run = (name: string, input: unknown, parameters: Record<string, unknown> = {}) => {
    const fn = transforms[name];
    assert.ok(typeof fn === 'function');
    return fn(input, call(parameters));
  };
  assert.equal(run('shortest', ['ccc', 'a', 'bb']), 'a');
  assert.equal(run('longest', ['ccc', 'a', 'bb']), 'ccc');
  assert.equal(run('first', ['x', 'y']), 'x');
  assert.equal(run('join', ['a', 'b'], { separator: ' | ' }), 'a | b');
  assert.equal(run('join', ['a', 'b']), 'a\n\nb');
});

test('a registered function wins over a built-in of the same name', () => {
  const mine = () => 'mine';
  assert.equal(withBuiltinFunctions({ transforms: { shortest: mine } }).transforms?.shortest, mine);
  assert.ok(withBuiltinFunctions({}).gates?.['text-check'] !== undefined);
});
