import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PipewrightError } from '../core/index.ts';
import { loadWorkflow } from './load-workflow.ts';
import { WorkflowDefinitionError } from './workflow-definition-error.ts';

/** What loading `text` is refused with. */
function refusal(text: string): WorkflowDefinitionError {
  try {
    loadWorkflow(text);
  } catch (error) {
    assert.ok(error instanceof WorkflowDefinitionError, `not a definition error: ${String(error)}`);
    return error;
  }
  assert.fail('the definition loaded');
}

test('a YAML alias bomb is a definition error naming the alias limit, not a crash', () => {
  const lines = [
    'id: bomb',
    'version: 1',
    'context: { fields: {} }',
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ];
  for (const [previous, name] of [...'abcdefgh'].map((letter, index) => [letter, 'bcdefghi'[index]]))
    lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
  lines.push('nodes: { x: { type: transform, fn: missing, input: *i } }');
  const error = refusal(lines.join('\n'));
  assert.ok(PipewrightError.isInstance(error));
  assert.equal(error.code, 'workflow.definition_invalid');
  assert.match(error.message, /aliases expand to more than 100 nodes \(maxAliasCount\)/);
});

test('a 1 MB deeply nested definition is refused at its 65th level, before it is built', () => {
  const nested = `id: deep\nversion: 1\ncontext: { fields: {} }\nnodes: ${'['.repeat(1_000_000)}`;
  const error = refusal(nested);
  assert.equal(error.code, 'workflow.definition_invalid');
  assert.match(error.message, /nests deeper than 64 levels \(maxDepth\) at line 4, column 71/);
});

test('ordinary workflows still load: the examples, and YAML syntax errors by line', () => {
  for (const name of ['campaign', 'document-fan-out']) {
    const text = readFileSync(new URL(`../../examples/workflows/${name}.yaml`, import.meta.url), 'utf8');
    assert.equal(loadWorkflow(text).id, name);
  }
  const error = refusal('id: x\nnodes: [a\n');
  assert.match(error.problems[0]?.path ?? '', /^line \d+$/);
});
