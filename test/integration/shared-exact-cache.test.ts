// Issue 4, point 1 with Redis: `cache.backend: redis` shares exact-cache answers between two
// gateway processes (two gateways on one sim here), through the config as a user writes it.
// Against the real Redis on 127.0.0.1:6379 with a unique key prefix, deleted at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { countSimRequests } from '../../src/providers/sim/index.ts';
import { openAiClientFor, startTestStack, type TestStack } from '../support/start-test-stack.ts';

const admin = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
const prefix = `pipewright-test:${process.pid}:${Date.now()}:`;
const stacks: TestStack[] = [];

after(async () => {
  for (const stack of stacks.reverse()) await stack.close();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

test('two gateways with cache.backend: redis share answers: one upstream call, the second gateway answers from the cache', async () => {
  const extraConfig = {
    redis: { url: 'redis://127.0.0.1:6379', keyPrefix: prefix },
    cache: { backend: 'redis' },
  };
  const first = await startTestStack({ extraConfig });
  stacks.push(first);
  // Same sim, so the same configuration: a different config would (rightly) never share an entry.
  const second = await startTestStack({ extraConfig, sim: first.sim });
  stacks.push(second);
  const ask = {
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [{ role: 'user' as const, content: 'Shared across gateways?' }],
  };
  const clientOf = (stack: TestStack) => openAiClientFor(stack);

  const upstreamCalls = () => countSimRequests(first.sim.stats());
  const answered = await clientOf(first).chat.completions.create(ask).withResponse();
  assert.equal(answered.response.headers.get('x-pipewright-cache'), 'miss');
  const shared = await clientOf(second).chat.completions.create(ask).withResponse();
  assert.equal(shared.response.headers.get('x-pipewright-cache'), 'hit');
  assert.equal(shared.data.choices[0]?.message.content, answered.data.choices[0]?.message.content);
  assert.equal(upstreamCalls(), 1, 'one upstream call for both gateways');
  assert.equal((await admin.keys(`${prefix}cache:*`)).length, 1);

  // Another tenant asking the same thing is not served the first tenant's answer.
  const otherTenant = await clientOf(second)
    .chat.completions.create(ask, { headers: { 'x-pipewright-tenant': 'globex' } })
    .withResponse();
  assert.equal(otherTenant.response.headers.get('x-pipewright-cache'), 'miss');
});
