import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createId, createTraceId } from './ids.ts';

test('ids are prefixed, unique and URL-safe', () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => createId('req')));
  assert.equal(ids.size, 10_000);
  for (const id of [...ids].slice(0, 50)) assert.match(id, /^req_[0-9a-z]{20,}$/);
});

test('trace ids are 32 lowercase hex characters and unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => createTraceId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[\da-f]{32}$/);
});
