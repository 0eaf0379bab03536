// The gateway's side of resilience: the deadline header, breaker state over HTTP and in /metrics,
// and a bulkhead's 429 with retry-after, against the real sim.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countSimRequests } from '../../src/providers/sim/index.ts';
import { startTestStack, testMasterKey, type TestStack } from '../support/start-test-stack.ts';

let stack: TestStack;
const auth = { authorization: `Bearer ${testMasterKey}` };

before(async () => {
  stack = await startTestStack();
});

after(async () => {
  await stack.close();
});

function chat(model: string, headers: Record<string, string> = {}) {
  return fetch(`${stack.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }] }),
  });
}

describe('gateway resilience', () => {
  test('x-pipewright-timeout-ms bounds the request: 504 with every attempt listed', async () => {
    const response = await chat('slow', { 'x-pipewright-timeout-ms': '100' });
    assert.equal(response.status, 504);
    const body = (await response.json()) as {
      error: { code: string; details: { attempts: Array<{ deployment: string }> } };
    };
    assert.equal(body.error.code, 'gateway.deadline_exceeded');
    assert.deepEqual(
      body.error.details.attempts.map((attempt) => attempt.deployment),
      ['sim-slow'],
    );
    // The longest deadline there is: the 300 ms answer fits however loaded the machine.
    const ok = await chat('slow', { 'x-pipewright-timeout-ms': '3600000' });
    assert.equal(ok.status, 200);
  });

  test('a malformed x-pipewright-timeout-ms is a 400 naming the header', async () => {
    for (const value of ['soon', '0', '-5', '99999999']) {
      const response = await chat('gpt-4o-mini', { 'x-pipewright-timeout-ms': value });
      assert.equal(response.status, 400, value);
      const body = (await response.json()) as { error: { param: string } };
      assert.equal(body.error.param, 'x-pipewright-timeout-ms');
    }
  });

  test('GET /admin/breakers shows each deployment; a refused key is out until its configuration changes', async () => {
    assert.equal((await fetch(`${stack.gateway.url}/admin/breakers`)).status, 401);
    assert.equal((await chat('bad-key')).status, 401);
    const response = await fetch(`${stack.gateway.url}/admin/breakers`, { headers: auth });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      data: Array<{ deployment: string; state: string; retryInMs: number | null; reason: string | null }>;
    };
    const badKey = body.data.find((entry) => entry.deployment === 'sim-bad-key');
    assert.equal(badKey?.state, 'open');
    assert.equal(badKey?.retryInMs, null);
    assert.match(badKey?.reason ?? '', /credentials refused/);
    assert.equal(body.data.find((entry) => entry.deployment === 'sim-openai')?.state, 'closed');
    const callsBefore = countSimRequests(stack.sim.stats());
    const again = await chat('bad-key');
    assert.equal(
      countSimRequests(stack.sim.stats()),
      callsBefore,
      'no call is made with a key known to be refused',
    );
    // The only reason the group cannot answer is the refused key: the caller is told so, as a 401.
    assert.equal(again.status, 401);
    const { error } = (await again.json()) as {
      error: {
        pipewright_code: string;
        message: string;
        details?: { attempts?: Array<{ deployment: string; errorCode: string }> };
      };
    };
    assert.equal(error.pipewright_code, 'provider.authentication');
    assert.deepEqual(
      error.details?.attempts?.map((attempt) => [attempt.deployment, attempt.errorCode]),
      [['sim-bad-key', 'gateway.circuit_open']],
    );
    assert.match(
      error.message,
      /refused the key of deployment sim-bad-key.*until its configuration .*changes/,
    );
  });

  test('/metrics exposes pipewright_circuit_state per deployment', async () => {
    const text = await (await fetch(`${stack.gateway.url}/metrics`, { headers: auth })).text();
    assert.match(text, /pipewright_circuit_state\{deployment="sim-openai"\} 0/);
    assert.match(text, /pipewright_circuit_state\{deployment="sim-bad-key"\} 2/);
  });
});
