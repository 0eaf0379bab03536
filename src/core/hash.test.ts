import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from './errors.ts';
import { hashValue, maxStableNesting, stableStringify } from './hash.ts';

test('stableStringify sorts keys at every level and drops undefined members', () => {
  assert.equal(stableStringify({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
  assert.equal(hashValue({ a: 1, b: 2 }), hashValue({ b: 2, a: 1 }));
});

test('a value nested deeper than the bound is a request.invalid error, not a stack overflow', () => {
  let deep: unknown = 'leaf';
  for (let level = 0; level < 20_000; level += 1) deep = level % 2 === 0 ? [deep] : { a: deep };
  assert.throws(
    () => hashValue({ request: deep }),
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.code === 'request.invalid' &&
      error.message.includes(String(maxStableNesting)),
  );
  let atBound: unknown = 1;
  for (let level = 0; level < maxStableNesting; level += 1) atBound = [atBound];
  assert.equal(stableStringify(atBound).length, 2 * maxStableNesting + 1);
});
