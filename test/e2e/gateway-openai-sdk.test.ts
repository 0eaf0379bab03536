import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  openAiClientFor,
  startTestStack,
  testMasterKey,
  type TestStack,
} from '../support/start-test-stack.ts';

let stack: TestStack;
let client: OpenAI;

/** Pipewright's stable code, beside the envelope's `code` (which is the upstream's when it gave one). */
const pipewrightCodeOf = (error: InstanceType<typeof OpenAI.APIError>) =>
  (error.error as { pipewright_code?: unknown } | undefined)?.pipewright_code;

before(async () => {
  stack = await startTestStack();
  client = openAiClientFor(stack);
});

after(async () => {
  await stack.close();
});

describe('the official openai SDK against the gateway', () => {
  for (const model of ['gpt-4o-mini', 'claude', 'gemini']) {
    test(`chat completion through the ${model} wire format`, async () => {
      const { data, response } = await client.chat.completions
        .create({
          model,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Name a colour.' },
          ],
        })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.ok((data.choices[0]?.message.content ?? '').length > 0);
      assert.ok((data.usage?.prompt_tokens ?? 0) > 0);
      assert.match(response.headers.get('x-request-id') ?? '', /^req_/);
      assert.ok(Number(response.headers.get('x-pipewright-overhead-ms')) >= 0);
      assert.equal(response.headers.get('x-pipewright-simulated'), 'true');
    });

    test(`stream through the ${model} wire format, with usage`, async () => {
      const stream = await client.chat.completions.create({
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Tell me a short story.' }],
      });
      let text = '';
      let usage;
      let finish;
      for await (const part of stream) {
        text += part.choices[0]?.delta.content ?? '';
        finish = part.choices[0]?.finish_reason ?? finish;
        if (part.usage) usage = part.usage;
      }
      assert.ok(text.length > 0);
      assert.equal(finish, 'stop');
      assert.ok(usage !== undefined && usage.completion_tokens > 0);
    });

    test(`tool call through the ${model} wire format`, async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
        ],
      });
      const call = completion.choices[0]?.message.tool_calls?.[0];
      assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
      assert.ok(call !== undefined && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
    });
  }

  test('streamed tool calls arrive as fragments the SDK reassembles', async () => {
    const stream = client.chat.completions.stream({
      model: 'claude',
      messages: [{ role: 'user', content: 'Book a table for two.' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'book_table',
            parameters: {
              type: 'object',
              properties: { people: { type: 'integer' }, time: { type: 'string' } },
              required: ['people', 'time'],
            },
          },
        },
      ],
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.ok(call !== undefined && call.type === 'function');
    assert.equal(call.function.name, 'book_table');
    assert.equal(typeof JSON.parse(call.function.arguments).people, 'number');
  });

  test('embeddings', async () => {
    const result = await client.embeddings.create({
      model: 'gpt-4o-mini',
      input: ['artificial intelligence', 'AI', 'banana bread'],
    });
    assert.equal(result.data.length, 3);
    assert.ok(result.data[0]!.embedding.length > 0);
  });

  test('models list', async () => {
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    assert.ok(ids.includes('gpt-4o-mini') && ids.includes('claude'));
  });
});

describe('errors arrive as the SDK own error classes', () => {
  test('a wrong key is an AuthenticationError', async () => {
    const wrong = new OpenAI({ apiKey: 'wrong-key', baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      wrong.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.AuthenticationError,
    );
  });

  test('an unknown model is a NotFoundError naming the model field', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.equal(error.param, 'model');
        return true;
      },
    );
  });

  test('an invalid request is a BadRequestError naming the field path', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        temperature: 7,
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'temperature',
    );
  });

  test('an upstream 429 is a RateLimitError with retry-after', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'rate-limited', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError);
        assert.equal(error.headers?.get('retry-after'), '7');
        return true;
      },
    );
  });

  test('exhausted quota is a 429 with code provider.quota_exhausted and no retry hint', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'quota', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError);
        // `code` is the upstream's own where it gave one (insufficient_quota); ours travels beside it.
        assert.equal(pipewrightCodeOf(error), 'provider.quota_exhausted');
        assert.equal(error.headers.get('x-pipewright-error-code'), 'provider.quota_exhausted');
        assert.equal(error.headers.get('retry-after'), null);
        assert.equal(error.headers.get('x-should-retry'), 'false');
        return true;
      },
    );
  });

  test('an upstream outage is a 5xx InternalServerError', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'down', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.InternalServerError,
    );
  });

  test('a bad upstream key is reported, not hidden, also once the breaker has taken the deployment out', async () => {
    const refused = (error: unknown) =>
      error instanceof OpenAI.APIError &&
      error.status === 401 &&
      pipewrightCodeOf(error) === 'provider.authentication';
    await assert.rejects(
      client.chat.completions.create({ model: 'bad-key', messages: [{ role: 'user', content: 'x' }] }),
      refused,
    );
    // The second call makes no upstream call (the key is known to be refused) but says why, as a 401.
    await assert.rejects(
      client.chat.completions.create({ model: 'bad-key', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => refused(error) && /until its configuration/.test((error as Error).message),
    );
  });

  test('a group falls back past a down deployment', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'down-then-ok', messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    assert.equal(response.headers.get('x-pipewright-deployment'), 'sim-openai');
  });

  test('a stream cut upstream ends with an error event, never [DONE]', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testMasterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'cut',
        stream: true,
        messages: [{ role: 'user', content: 'Tell me a long story about rivers.' }],
      }),
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(!text.includes('[DONE]'), 'no clean end');
    const last = text.trim().split('\n\n').at(-1) ?? '';
    assert.equal(JSON.parse(last.slice('data: '.length)).error.code, 'provider.stream_cut');
    // and the SDK raises it
    const stream = await client.chat.completions.create({
      model: 'cut',
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a long story about rivers.' }],
    });
    await assert.rejects(async () => {
      for await (const _part of stream) {
        // drain
      }
    }, OpenAI.APIError);
  });
});

describe('client aborts', () => {
  test('a client that leaves mid-stream aborts the upstream call, recorded as provider.aborted', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      {
        model: 'trickle',
        stream: true,
        messages: [
          { role: 'user', content: 'Write a very long essay about the history of bridges and tunnels.' },
        ],
      },
      { signal: controller.signal, headers: { 'x-pipewright-tenant': 'tenant-abort' } },
    );
    let received = 0;
    try {
      for await (const _part of stream) {
        received += 1;
        if (received === 2) controller.abort();
      }
    } catch {
      // the SDK may surface the abort as an error or simply end the iteration
    }
    assert.ok(received >= 2 && received < 20, `stopped early (received ${received} chunks)`);
    // The gateway notices the closed socket, aborts upstream and records the call.
    let records: Awaited<ReturnType<typeof stack.gateway.store.callRecords.list>> = [];
    for (let attempt = 0; attempt < 40 && records.length === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      await stack.gateway.recorder.flush();
      records = await stack.gateway.store.callRecords.list({ tenantId: 'tenant-abort' });
    }
    assert.equal(records.length, 1);
    assert.equal(records[0]?.outcome, 'error');
    assert.equal(records[0]?.errorCode, 'provider.aborted');
  });
});

describe('bad input never takes the server down', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testMasterKey}`, 'content-type': 'application/json', ...headers },
      body,
    });

  test('invalid JSON is a 400 naming the body', async () => {
    const response = await post('{"model": ');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; param: string } };
    assert.equal(body.error.code, 'request.invalid_json');
  });

  test('an oversized body is a 413', async () => {
    const response = await post(
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }),
    );
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'request.too_large');
  });

  test('wrong types are a 400 naming the path', async () => {
    const response = await post(
      JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }],
      }),
    );
    assert.equal(response.status, 400);
    assert.equal(
      ((await response.json()) as { error: { param: string } }).error.param,
      'messages[0].content[0].image_url.url',
    );
  });

  test('a body that is not an object is a 400', async () => {
    const response = await post('[1,2,3]');
    assert.equal(response.status, 400);
  });

  test('an unsupported content type is a 415', async () => {
    const response = await post('hello', { 'content-type': 'text/plain' });
    assert.equal(response.status, 415);
  });

  test('no key is a 401; health endpoints need none', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/models`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { type: string } }).error.type, 'authentication_error');
    assert.equal((await fetch(`${stack.gateway.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${stack.gateway.url}/readyz`)).status, 200);
  });

  test('an unknown route is a 404 envelope', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/nope`, {
      headers: { authorization: `Bearer ${testMasterKey}` },
    });
    assert.equal(response.status, 404);
  });

  test('after all that, the server still serves', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    assert.ok(completion.choices.length === 1);
  });
});

describe('metrics and telemetry', () => {
  test('/metrics exposes GenAI metrics and request counters', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
    });
    const response = await fetch(`${stack.gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${testMasterKey}` },
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /gen_ai_client_token_usage_bucket/);
    assert.match(text, /gen_ai_client_operation_duration_seconds_bucket/);
    assert.match(text, /pipewright_requests_total/);
  });

  test('every call is recorded in the store with its tenant', async () => {
    await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'tenant test' }] },
      { headers: { 'x-pipewright-tenant': 'tenant-e2e' } },
    );
    await stack.gateway.recorder.flush();
    const records = await stack.gateway.store.callRecords.list({ tenantId: 'tenant-e2e' });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.deployment, 'sim-openai');
    assert.ok((records[0]?.costUsd ?? 0) > 0);
    assert.equal(records[0]?.simulated, true);
    const other = await stack.gateway.store.callRecords.list({ tenantId: 'someone-else' });
    assert.equal(other.length, 0);
  });
});
