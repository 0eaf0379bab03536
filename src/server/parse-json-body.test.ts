import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { findNestingBeyond, registerJsonBodyParser } from './parse-json-body.ts';
import { toErrorResponse } from './error-response.ts';

async function createApp(options: { maxDepth?: number } = {}) {
  const app = Fastify();
  registerJsonBodyParser(app, options);
  app.setErrorHandler(async (error, _request, reply) => {
    const response = toErrorResponse(error);
    return reply.status(response.status).send(response.body);
  });
  app.post('/echo', async (request) => ({
    body: request.body,
    prototypeIntact: Object.getPrototypeOf(request.body) === Object.prototype,
  }));
  await app.ready();
  return app;
}

test('parses ordinary JSON bodies', async () => {
  const app = await createApp();
  const response = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"model":"m","n":[1,2]}',
  });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json().body, { model: 'm', n: [1, 2] });
});

test('prototype-poisoning keys are refused, also when spelled with unicode escapes', async () => {
  const app = await createApp();
  for (const payload of [
    '{"__proto__":{"admin":true}}',
    '{"a":{"constructor":{"prototype":{"x":1}}}}',
    '{"\\u005f_proto__":{"admin":true}}',
  ]) {
    const response = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(response.statusCode, 400, payload);
  }
  const harmless = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"text":"caf\\u00e9"}',
  });
  assert.equal(harmless.statusCode, 200);
  assert.equal(harmless.json().body.text, 'café');
});

test('empty and invalid bodies are 400 request.invalid_json naming the body', async () => {
  const app = await createApp();
  for (const payload of ['', '{"model": ']) {
    const response = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'request.invalid_json');
    assert.equal(response.json().error.param, 'body');
  }
});

test('a body nested deeper than the limit is a 400 naming the limit and the field, also through the secure parser', async () => {
  const app = await createApp();
  const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  for (const payload of [
    `{"model":"m","metadata":${deep(5_000)}}`,
    `{"model":"m","constructor":1,"metadata":${deep(5_000)}}`,
    `{"model":"m","metadata":${'{"a":'.repeat(64)}1${'}'.repeat(64)}}`,
  ]) {
    const response = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(response.statusCode, 400, payload.slice(0, 40));
    const { error } = response.json();
    assert.equal(error.code, 'request.invalid');
    assert.equal(error.param, 'metadata');
    assert.match(error.message, /more than 64 levels/);
  }
  // 64 levels in all (the body object is the first) pass.
  const atLimit = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: `{"metadata":${deep(63)}}`,
  });
  assert.equal(atLimit.statusCode, 200);
});

test('the depth limit is configurable; a deep top-level array names the body', async () => {
  const app = await createApp({ maxDepth: 3 });
  const tooDeep = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '[[[[1]]]]',
  });
  assert.equal(tooDeep.statusCode, 400);
  assert.equal(tooDeep.json().error.param, 'body');
  assert.equal(findNestingBeyond({ a: { b: { c: 1 } } }, 3), undefined);
  assert.equal(findNestingBeyond({ a: 1, b: [{ c: [1] }] }, 3), 'b');
  assert.equal(findNestingBeyond('text', 0), undefined);
});
