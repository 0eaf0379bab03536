import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { countSimRequests } from '../../src/providers/sim/index.ts';
import {
  openAiClientFor,
  startTestStack,
  testMasterKey,
  type TestStack,
} from '../support/start-test-stack.ts';

let stack: TestStack;
let client: OpenAI;

before(async () => {
  stack = await startTestStack();
  client = openAiClientFor(stack);
});

after(async () => {
  await stack.close();
});

const upstreamCalls = () => countSimRequests(stack.sim.stats());

describe('the exact cache through the gateway, with the official openai SDK', () => {
  test('a second identical request is a hit: same answer, no upstream call, x-pipewright-cache: hit, saving on /metrics', async () => {
    const request = {
      model: 'gpt-4o-mini',
      temperature: 0,
      messages: [{ role: 'user' as const, content: 'Name a colour for the cache test.' }],
    };
    const before = upstreamCalls();
    const first = await client.chat.completions.create(request).withResponse();
    assert.equal(first.response.headers.get('x-pipewright-cache'), 'miss');
    const second = await client.chat.completions.create(request).withResponse();
    assert.equal(second.response.headers.get('x-pipewright-cache'), 'hit');
    assert.equal(
      second.response.headers.get('x-pipewright-simulated'),
      'true',
      'a replayed sim answer is still labelled simulated',
    );
    assert.deepEqual(second.data.choices, first.data.choices);
    assert.equal(upstreamCalls() - before, 1);

    const metrics = await fetch(`${stack.gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${testMasterKey}` },
    });
    const text = await metrics.text();
    assert.match(text, /pipewright_cache_requests_total\{status="hit"\} [1-9]/);
    assert.match(text, /pipewright_cache_saved_cost_usd_total [0-9.e-]+/);
  });

  test('a stream is cached and replayed as a stream; temperature > 0 without a seed is bypass', async () => {
    const request = {
      model: 'gpt-4o-mini',
      temperature: 0,
      stream: true as const,
      messages: [{ role: 'user' as const, content: 'Tell a short cached story.' }],
    };
    const read = async () => {
      const { data, response } = await client.chat.completions.create(request).withResponse();
      let text = '';
      for await (const part of data) text += part.choices[0]?.delta.content ?? '';
      return { text, status: response.headers.get('x-pipewright-cache') };
    };
    const before = upstreamCalls();
    const first = await read();
    const second = await read();
    assert.deepEqual([first.status, second.status], ['miss', 'hit']);
    assert.ok(first.text.length > 0);
    assert.equal(second.text, first.text);
    assert.equal(upstreamCalls() - before, 1);

    const varied = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        temperature: 0.8,
        messages: [{ role: 'user', content: 'Surprise me.' }],
      })
      .withResponse();
    assert.equal(varied.response.headers.get('x-pipewright-cache'), 'bypass');
  });

  test('the x-pipewright-cache-control header is honoured, and a bad directive is a 400 naming the header', async () => {
    const request = {
      model: 'gpt-4o-mini',
      temperature: 0,
      messages: [{ role: 'user' as const, content: 'Directive test.' }],
    };
    const noStore = await client.chat.completions
      .create(request, { headers: { 'x-pipewright-cache-control': 'no-store' } })
      .withResponse();
    assert.equal(noStore.response.headers.get('x-pipewright-cache'), 'miss');
    const again = await client.chat.completions.create(request).withResponse();
    assert.equal(again.response.headers.get('x-pipewright-cache'), 'miss', 'no-store left nothing behind');
    const refreshed = await client.chat.completions
      .create(request, { headers: { 'x-pipewright-cache-control': 'force-refresh' } })
      .withResponse();
    assert.equal(refreshed.response.headers.get('x-pipewright-cache'), 'bypass');
    await assert.rejects(
      client.chat.completions.create(request, { headers: { 'x-pipewright-cache-control': 'forever' } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 400);
        assert.match(error.message, /x-pipewright-cache-control/);
        return true;
      },
    );
  });
});
