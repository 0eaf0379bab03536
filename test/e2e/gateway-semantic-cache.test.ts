import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { countSimRequests } from '../../src/providers/sim/index.ts';
import {
  openAiClientFor,
  startTestStack,
  testMasterKey,
  type TestStack,
} from '../support/start-test-stack.ts';

// The built-in local embedder (Universal Sentence Encoder, offline) and the learned verifier, as a
// user gets them by turning the semantic cache on; the store is a file so a restart can be tested.
const semanticConfig = { cache: { semantic: { enabled: true } } };

let dir: string;
let stack: TestStack;
let client: OpenAI;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pipewright-semantic-'));
  stack = await startTestStack({ extraConfig: semanticConfig, storePath: join(dir, 'pipewright.db') });
  client = openAiClientFor(stack);
});

after(async () => {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (content: string) => ({
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [
    { role: 'system' as const, content: 'You answer support questions.' },
    { role: 'user' as const, content },
  ],
});

describe('the semantic cache through the gateway, with the official openai SDK', () => {
  test('a reworded question is a semantic hit with similarity and confidence headers; a different one is not', async () => {
    const before = countSimRequests(stack.sim.stats());
    const first = await client.chat.completions.create(ask('How do I reset my password?')).withResponse();
    assert.equal(first.response.headers.get('x-pipewright-cache'), 'miss');
    const second = await client.chat.completions.create(ask('How can I reset my password?')).withResponse();
    assert.equal(second.response.headers.get('x-pipewright-cache'), 'semantic-hit');
    assert.ok(Number(second.response.headers.get('x-pipewright-cache-similarity')) >= 0.85);
    const confidence = Number(second.response.headers.get('x-pipewright-cache-confidence'));
    assert.ok(confidence > 0 && confidence <= 1);
    assert.equal(second.response.headers.get('x-pipewright-simulated'), 'true');
    assert.equal(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
    assert.equal(countSimRequests(stack.sim.stats()) - before, 1);

    const other = await client.chat.completions.create(ask('How do I delete my account?')).withResponse();
    assert.equal(other.response.headers.get('x-pipewright-cache'), 'miss');

    const metrics = await (
      await fetch(`${stack.gateway.url}/metrics`, { headers: { authorization: `Bearer ${testMasterKey}` } })
    ).text();
    assert.match(metrics, /pipewright_cache_requests_total\{status="semantic-hit"\} 1/);
    assert.match(metrics, /pipewright_cache_semantic_hit_ratio 0\.333/);
  });

  test('semantic entries are persisted in the store and served again after a restart', async () => {
    await client.chat.completions.create(ask('How do I cancel my subscription?'));
    await stack.restartGateway();
    await stack.gateway.engine.ready();
    client = openAiClientFor(stack);
    const before = countSimRequests(stack.sim.stats());
    const again = await client.chat.completions
      .create(ask('How can I cancel my subscription?'))
      .withResponse();
    assert.equal(again.response.headers.get('x-pipewright-cache'), 'semantic-hit');
    assert.equal(countSimRequests(stack.sim.stats()) - before, 0);
  });
  // Last: the outage leaves the deployment's circuit breaker open for a while.
  test('a provider outage is answered with the nearest stored answer, marked degraded; a question with no neighbour gets the error', async () => {
    const first = await client.chat.completions.create(ask('What is the capital of France?'));
    // Every request to the model fails from now on (the sim's outage window covers it).
    stack.sim.setConfig({
      rules: [{ match: { model: 'gpt-4o-mini' }, outages: [{ fromMs: 0, toMs: 3_600_000 }] }],
    });
    try {
      // Too far for a hit (the verifier refuses it), close enough to beat an error.
      // A short deadline: retries of the outage stop there (the default would retry for 30 s).
      const short = { headers: { 'x-pipewright-timeout-ms': '800' } };
      const degraded = await client.chat.completions
        .create(ask('What is the capital city of France?'), short)
        .withResponse();
      assert.equal(degraded.response.headers.get('x-pipewright-cache'), 'semantic-hit');
      assert.equal(degraded.response.headers.get('x-pipewright-degraded'), 'true');
      assert.ok(Number(degraded.response.headers.get('x-pipewright-cache-confidence')) <= 0.5);
      assert.equal(degraded.data.choices[0]?.message.content, first.choices[0]?.message.content);
      await assert.rejects(
        client.chat.completions.create(ask('Which plans include single sign-on?'), short),
        (error: unknown) => error instanceof OpenAI.APIError && (error.status ?? 0) >= 500,
      );
    } finally {
      stack.sim.setConfig({ rules: [] });
    }
  });
});
