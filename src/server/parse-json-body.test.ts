import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerJsonBodyParser } from './parse-json-body.ts';
import { toErrorResponse } from './error-response.ts';

async function createApp() {
  const app = Fastify();
  registerJsonBodyParser(app);
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
