import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { startSimServer, type SimServer } from './start-sim-server.ts';
import {
  anthropicHeaders,
  postJson,
  readJson,
  readSse,
  weatherTools,
  type AnthropicEvent,
  type AnthropicMessageBody,
} from './sim-test-support.ts';

const tools = weatherTools.map((tool) => ({
  name: tool.name,
  description: tool.description,
  input_schema: tool.parameters,
}));
const base = { model: 'claude-haiku-4-5', max_tokens: 400 };

describe('sim: Anthropic wire format', () => {
  let sim: SimServer;
  let messages: string;
  before(async () => {
    sim = await startSimServer();
    messages = `${sim.url}/v1/messages`;
  });
  after(() => sim.close());

  const events = async (
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<Array<{ event: string | undefined; data: AnthropicEvent }>> =>
    (
      await readSse(
        await postJson(messages, { ...base, ...body, stream: true }, { ...anthropicHeaders, ...headers }),
      )
    ).map((event) => ({
      event: event.event,
      data: JSON.parse(event.data) as AnthropicEvent,
    }));

  it('answers a message with usage, labelled as simulated', async () => {
    const response = await postJson(
      messages,
      { ...base, system: 'Be brief.', messages: [{ role: 'user', content: 'Tell me about Rome' }] },
      anthropicHeaders,
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-pipewright-simulated'), 'true');
    assert.match(response.headers.get('request-id') ?? '', /^req_/);
    const body = await readJson<AnthropicMessageBody>(response);
    assert.equal(body.type, 'message');
    assert.equal(body.role, 'assistant');
    assert.match(body.id, /^msg_/);
    assert.equal(body.content[0]?.type, 'text');
    assert.match(body.content[0]?.text ?? '', /^\[simulated\] .*Rome/);
    assert.equal(body.stop_reason, 'end_turn');
    assert.ok(body.usage.input_tokens > 0 && body.usage.output_tokens > 0);
  });

  it('requires x-api-key, anthropic-version and max_tokens', async () => {
    const request = { ...base, messages: [{ role: 'user', content: 'Hi' }] };
    const noKey = await postJson(messages, request, { 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.deepEqual(
      (await readJson<{ type: string; error: { type: string } }>(noKey)).error.type,
      'authentication_error',
    );
    const badKey = await postJson(messages, request, { ...anthropicHeaders, 'x-api-key': 'invalid-123' });
    assert.equal(badKey.status, 401);
    const noVersion = await postJson(messages, request, { 'x-api-key': 'k' });
    assert.equal(noVersion.status, 400);
    assert.match((await readJson<AnthropicEvent>(noVersion)).error?.message ?? '', /anthropic-version/);
    const noMaxTokens = await postJson(
      messages,
      { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }] },
      anthropicHeaders,
    );
    assert.equal(noMaxTokens.status, 400);
    const error = await readJson<AnthropicEvent & { request_id: string }>(noMaxTokens);
    assert.equal(error.type, 'error');
    assert.equal(error.error?.type, 'invalid_request_error');
    assert.equal(error.error?.message, 'max_tokens: Field required');
    assert.match(error.request_id, /^req_/);
  });

  it('streams the full event sequence with an index on every delta', async () => {
    const stream = await events({ messages: [{ role: 'user', content: 'Tell me about Rome' }] });
    const names = stream.map((item) => item.event);
    assert.equal(names[0], 'message_start');
    assert.equal(names[1], 'content_block_start');
    assert.equal(names[2], 'ping');
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(
      stream.every((item) => item.event === item.data.type),
      'event names match their payload type',
    );
    const deltas = stream.filter((item) => item.event === 'content_block_delta');
    assert.ok(
      deltas.length > 3 &&
        deltas.every((item) => item.data.index === 0 && item.data.delta?.type === 'text_delta'),
    );
    const whole = await readJson<AnthropicMessageBody>(
      await postJson(
        messages,
        { ...base, messages: [{ role: 'user', content: 'Tell me about Rome' }] },
        anthropicHeaders,
      ),
    );
    assert.equal(deltas.map((item) => item.data.delta?.text).join(''), whole.content[0]?.text);
    const final = stream.find((item) => item.event === 'message_delta');
    assert.equal(final?.data.delta?.stop_reason, 'end_turn');
    assert.equal(final?.data.usage?.output_tokens, whole.usage.output_tokens);
  });

  it('calls a tool after a short text block, streaming its input as JSON fragments', async () => {
    const request = {
      tools,
      messages: [{ role: 'user', content: 'What is the weather forecast in Kyoto?' }],
    };
    const body = await readJson<AnthropicMessageBody>(
      await postJson(messages, { ...base, ...request }, anthropicHeaders),
    );
    assert.equal(body.stop_reason, 'tool_use');
    assert.deepEqual(
      body.content.map((block) => block.type),
      ['text', 'tool_use'],
    );
    const toolUse = body.content[1];
    assert.equal(toolUse?.name, 'get_weather');
    assert.match(toolUse?.id ?? '', /^toolu_/);
    assert.ok(
      new Ajv().validate(tools[0]?.input_schema ?? {}, toolUse?.input),
      JSON.stringify(toolUse?.input),
    );
    assert.equal(toolUse?.input?.['city'], 'Kyoto');

    const stream = await events(request);
    const start = stream.find(
      (item) => item.event === 'content_block_start' && item.data.content_block?.type === 'tool_use',
    );
    assert.deepEqual(start?.data.content_block, {
      type: 'tool_use',
      id: toolUse?.id,
      name: 'get_weather',
      input: {},
    });
    const fragments = stream.filter((item) => item.data.delta?.type === 'input_json_delta');
    assert.ok(fragments.length > 2 && fragments.every((item) => item.data.index === 1));
    assert.deepEqual(
      JSON.parse(fragments.map((item) => item.data.delta?.partial_json).join('')),
      toolUse?.input,
    );
    assert.equal(stream.find((item) => item.event === 'message_delta')?.data.delta?.stop_reason, 'tool_use');
  });

  it('answers in text from a tool_result', async () => {
    const body = await readJson<AnthropicMessageBody>(
      await postJson(
        messages,
        {
          ...base,
          tools,
          messages: [
            { role: 'user', content: 'What is the weather in Kyoto?' },
            {
              role: 'assistant',
              content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Kyoto' } }],
            },
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny, 24 degrees' }],
            },
          ],
        },
        anthropicHeaders,
      ),
    );
    assert.equal(body.stop_reason, 'end_turn');
    assert.match(body.content[0]?.text ?? '', /get_weather: Sunny, 24 degrees/);
  });

  it('returns JSON valid against output_config.format', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0, maximum: 120 } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const body = await readJson<AnthropicMessageBody>(
      await postJson(
        messages,
        {
          ...base,
          output_config: { format: { type: 'json_schema', schema } },
          messages: [{ role: 'user', content: 'Extract: John Smith is 42.' }],
        },
        anthropicHeaders,
      ),
    );
    const value = JSON.parse(body.content[0]?.text ?? '') as Record<string, unknown>;
    assert.ok(new Ajv().validate(schema, value));
    assert.equal(value['age'], 42);
  });

  it('reports max_tokens and stop sequences in its own words', async () => {
    const short = await readJson<AnthropicMessageBody>(
      await postJson(
        messages,
        { ...base, max_tokens: 3, messages: [{ role: 'user', content: 'Tell me about Rome' }] },
        anthropicHeaders,
      ),
    );
    assert.equal(short.stop_reason, 'max_tokens');
    assert.equal(short.usage.output_tokens, 3);
    const stopped = await readJson<AnthropicMessageBody>(
      await postJson(
        messages,
        { ...base, stop_sequences: ['Rome'], messages: [{ role: 'user', content: 'Tell me about Rome' }] },
        anthropicHeaders,
      ),
    );
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, 'Rome');
  });

  it('signals rate limits with retry-after and RFC 3339 anthropic-ratelimit resets', async () => {
    const response = await postJson(
      messages,
      { ...base, messages: [{ role: 'user', content: 'Hi' }] },
      { ...anthropicHeaders, 'x-sim-fault': 'status=429; retry-after=30' },
    );
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '30');
    const reset = response.headers.get('anthropic-ratelimit-requests-reset') ?? '';
    assert.match(reset, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.ok(Date.parse(reset) > Date.now() + 20_000);
    assert.equal(response.headers.get('anthropic-ratelimit-input-tokens-remaining'), '0');
    assert.equal((await readJson<AnthropicEvent>(response)).error?.type, 'rate_limit_error');
  });

  it('answers 529 overloaded_error and the spend-limit 429', async () => {
    const overloaded = await postJson(
      messages,
      { ...base, messages: [{ role: 'user', content: 'Hi' }] },
      { ...anthropicHeaders, 'x-sim-fault': 'status=529' },
    );
    assert.equal(overloaded.status, 529);
    assert.deepEqual((await readJson<AnthropicEvent>(overloaded)).error, {
      type: 'overloaded_error',
      message: 'Overloaded',
    });
    const quota = await postJson(
      messages,
      { ...base, messages: [{ role: 'user', content: 'Hi' }] },
      { ...anthropicHeaders, 'x-sim-fault': 'quota' },
    );
    assert.equal(quota.status, 429);
    assert.equal(quota.headers.get('retry-after'), null, 'waiting does not help');
    assert.deepEqual((await readJson<AnthropicEvent>(quota)).error?.details, {
      error_code: 'enforced_spend_limit_reached',
    });
  });

  it('sends an overloaded error event inside a 200 stream', async () => {
    const stream = await events(
      { messages: [{ role: 'user', content: 'Tell me about Rome' }] },
      { 'x-sim-fault': 'stream-error=after:4' },
    );
    assert.equal(stream.length, 5);
    assert.equal(stream[4]?.event, 'error');
    assert.equal(stream[4]?.data.error?.type, 'overloaded_error');
    assert.ok(!stream.some((item) => item.event === 'message_stop'));
  });

  it('lists models in its own shape when anthropic-version is sent', async () => {
    const body = await readJson<{ data: Array<{ type: string; id: string }>; has_more: boolean }>(
      await fetch(`${sim.url}/v1/models`, { headers: anthropicHeaders }),
    );
    assert.equal(body.has_more, false);
    assert.ok(body.data.every((model) => model.type === 'model'));
  });
});
