import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { PipewrightError } from './errors.ts';
import { parseYamlBounded, type ParseYamlOptions } from './parse-yaml-bounded.ts';

const options: ParseYamlOptions = { param: 'definition', code: 'workflow.definition_invalid' };

/** The error parsing `text` is refused with. */
function refusal(text: string, given: ParseYamlOptions = options): PipewrightError {
  try {
    parseYamlBounded(text, given);
  } catch (error) {
    assert.ok(PipewrightError.isInstance(error), String(error));
    return error;
  }
  assert.fail('the text was accepted');
}

/** How deep a value's collections nest (a scalar: 0; an empty list or map: 1). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

/** About 1 MB of one construct repeated, each repetition one level deeper. */
function deep(kind: 'flow' | 'sequence' | 'mapping' | 'mixed'): string {
  const size = 1_000_000;
  if (kind === 'flow') return '['.repeat(size);
  if (kind === 'sequence') return `${'- '.repeat(size / 2)}x\n`;
  if (kind === 'mixed') return `${'{a: ['.repeat(size / 5)}x`;
  const lines: string[] = [];
  for (let length = 0, level = 0; length < size; level += 1) {
    const entry = `${' '.repeat(level)}k${level}:\n`;
    lines.push(entry);
    length += entry.length;
  }
  return lines.join('');
}

describe('parseYamlBounded', () => {
  test('ordinary YAML parses as the yaml package parses it: maps, lists, flow, block scalars, anchors', () => {
    const text = [
      '# a comment',
      'id: campaign',
      'defaults: &defaults { retries: 2, tags: [a, b] }',
      'nodes:',
      '  - name: "first: quoted"',
      '    <<: *defaults',
      '    prompt: |',
      '      Write [three] {lines}: - no structure here',
      '  -',
      '    name: second',
      '    options: *defaults',
      '  - - nested',
      '    - list',
      'outputs:',
      '- ok',
    ].join('\n');
    assert.deepEqual(parseYamlBounded(text, options), {
      id: 'campaign',
      defaults: { retries: 2, tags: ['a', 'b'] },
      nodes: [
        {
          name: 'first: quoted',
          '<<': { retries: 2, tags: ['a', 'b'] },
          prompt: 'Write [three] {lines}: - no structure here\n',
        },
        { name: 'second', options: { retries: 2, tags: ['a', 'b'] } },
        ['nested', 'list'],
      ],
      outputs: ['ok'],
    });
    assert.equal(parseYamlBounded('', options), null);
  });

  test('an alias bomb is refused with the limit and the parameter named', () => {
    // "Billion laughs": 72 aliases that expand to 9^8 strings.
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [previous, name] of [...'abcdefgh'].map((letter, index) => [letter, 'bcdefghi'[index]])) {
      lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
    }
    const error = refusal(lines.join('\n'));
    assert.equal(error.code, 'workflow.definition_invalid');
    assert.equal(error.param, 'definition');
    assert.equal(error.details?.limit, 'maxAliasCount');
    assert.match(error.message, /^definition: .*aliases.*more than 100.*maxAliasCount/);

    // More alias tokens than the limit are refused while lexing, at the first one too many.
    const many = `a: &a x\nlist:\n${Array.from({ length: 101 }, () => '  - *a').join('\n')}\n`;
    const counted = refusal(many);
    assert.deepEqual([counted.details?.limit, counted.details?.line], ['maxAliasCount', 103]);
  });

  for (const kind of ['flow', 'sequence', 'mapping', 'mixed'] as const) {
    test(`about 1 MB of ${kind} nesting is refused at its first level too many, not after building it`, () => {
      const text = deep(kind);
      assert.ok(text.length >= 900_000 && text.length <= 1_048_576);
      const error = refusal(text);
      assert.equal(error.code, 'workflow.definition_invalid');
      assert.equal(error.param, 'definition');
      assert.equal(error.details?.limit, 'maxDepth');
      assert.match(
        error.message,
        /^definition: the YAML text nests deeper than 64 levels \(maxDepth\) at line \d+/,
      );
      // The position is that of the 65th level: the lexer stopped there, the rest was never parsed.
      const expected = { flow: [1, 65], sequence: [1, 129], mapping: [65, 65], mixed: [1, 32 * 5 + 1] }[kind];
      assert.deepEqual([error.details?.line, error.details?.column], expected, error.message);
    });
  }

  test('the size is checked before parsing', () => {
    const error = refusal('a: 1\n'.repeat(100), { ...options, limits: { maxBytes: 300 } });
    assert.deepEqual([error.details?.limit, error.details?.max], ['maxBytes', 300]);
    assert.match(error.message, /500 bytes, more than the limit of 300 \(maxBytes\)/);
  });

  test('syntax errors name the line; several documents are refused; the code defaults to request.invalid', () => {
    const error = refusal('id: x\nnodes: [a\n', { param: 'pipewright.yaml' });
    assert.equal(error.code, 'request.invalid');
    assert.match(error.message, /^pipewright\.yaml: invalid YAML at line \d+, column \d+: /);
    assert.ok(Array.isArray(error.details?.problems));
    assert.match(refusal('a: 1\n---\nb: 2\n').message, /more than one YAML document/);
    assert.match(
      refusal('a: 1\na: 2\n').message,
      /invalid YAML at line 1, column 1: Map keys must be unique/,
    );
  });

  // Block style, lists at their key's column (`key:\n- item`), and flow style.
  const styles = [{}, { indentSeq: false }, { collectionStyle: 'flow' as const }];

  test('on random values the measured depth is exact, in block and in flow style', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.constantFrom(...styles), (value, style) => {
        const text = stringify(value, style);
        const depth = depthOf(value);
        assert.deepEqual(parseYamlBounded(text, { ...options, limits: { maxDepth: depth } }), value, text);
        if (depth > 0) {
          const error = refusal(text, { ...options, limits: { maxDepth: depth - 1 } });
          assert.equal(error.details?.limit, 'maxDepth', `${text}\n${error.message}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
