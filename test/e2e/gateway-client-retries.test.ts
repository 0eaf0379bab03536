import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startSimServer, type SimServer } from '../../src/providers/sim/index.ts';
import { startTestStack, testMasterKey, type TestStack } from '../support/start-test-stack.ts';

// Issue 9, points 11 and 14: the official openai SDK, with its default retries (2), against a real
// gateway whose upstream (the sim) fails; the sim counts what actually reached the upstream.

let sim: SimServer;
let stack: TestStack;
/** The SDK as users run it: its own retries on (2 by default). */
let client: OpenAI;

before(async () => {
  sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 1 });
  const deployment = (id: string, fault: string, retry: Record<string, number>) => ({
    id,
    provider: 'sim',
    model: 'gpt-4o-mini',
    wireFormat: 'openai',
    baseUrl: `${sim.url}/v1`,
    apiKey: 'sim-key',
    headers: { 'x-sim-fault': fault },
    retry,
    // The breaker is not under test: it must not take the deployment out between the calls.
    breaker: { consecutiveFailures: 1_000, minimumCalls: 1_000 },
  });
  // The gateway retries a 500 three times; with no wait worth the name.
  const gatewayRetries = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 };
  stack = await startTestStack({
    sim,
    extraConfig: {
      deployments: [
        deployment('sim-500', 'status=500', gatewayRetries),
        deployment('sim-quota', 'quota', gatewayRetries),
        deployment('sim-context', 'context-length', gatewayRetries),
        deployment('sim-500-once', 'status=500', { maxAttempts: 1 }),
        deployment('sim-503-once', 'status=503', { maxAttempts: 1 }),
      ],
      modelGroups: [
        { name: 'always-500', deployments: ['sim-500'] },
        { name: 'quota', deployments: ['sim-quota'] },
        { name: 'context', deployments: ['sim-context'] },
        { name: 'fails-over', deployments: ['sim-500-once', 'sim-503-once'] },
        { name: 'overloaded-once', deployments: ['sim-503-once'] },
      ],
    },
  });
  client = new OpenAI({ apiKey: testMasterKey, baseURL: `${stack.gateway.url}/v1` });
});

after(async () => {
  await stack.close();
  await sim.close();
});

async function upstreamCallsFor(model: string): Promise<{ calls: number; error: unknown }> {
  sim.resetStats();
  let caught: unknown;
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
  } catch (error) {
    caught = error;
  }
  return { calls: sim.stats().total, error: caught };
}

describe('the SDK does not multiply upstream calls (x-should-retry)', () => {
  test('exhausted quota reaches the upstream once for one SDK call, not 3 times', async () => {
    const { calls, error } = await upstreamCallsFor('quota');
    assert.equal(calls, 1);
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.headers.get('x-should-retry'), 'false');
  });

  test('a persistent 500 the gateway already retried is not retried again by the SDK: 3 upstream calls, not 9', async () => {
    const { calls, error } = await upstreamCallsFor('always-500');
    assert.equal(calls, 3);
    assert.ok(error instanceof OpenAI.InternalServerError);
    assert.equal(error.headers.get('x-should-retry'), 'false');
    assert.equal((error.error as { details?: { attempts?: unknown[] } }).details?.attempts?.length, 3);
  });

  test('a failure after the gateway fell back to another deployment is not retried by the SDK', async () => {
    const { calls, error } = await upstreamCallsFor('fails-over');
    assert.equal(calls, 2);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.headers?.get('x-should-retry'), 'false');
  });

  test('an overload the gateway tried once says the client may retry', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testMasterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'overloaded-once', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('x-should-retry'), 'true');
  });
});

describe("the upstream's code and param reach the SDK as OpenAI sends them", () => {
  test('a context-length error is err.code context_length_exceeded with its param; our code travels beside it', async () => {
    const { calls, error } = await upstreamCallsFor('context');
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.param, 'messages');
    assert.equal(
      (error.error as { pipewright_code?: unknown }).pipewright_code,
      'provider.context_length_exceeded',
    );
    assert.equal(error.headers.get('x-pipewright-error-code'), 'provider.context_length_exceeded');
    assert.equal(error.headers.get('x-should-retry'), 'false');
    assert.equal(calls, 1);
  });
});
