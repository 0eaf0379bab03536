import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { countSimRequests } from './sim-stats.ts';
import { startSimServer, type SimServer } from './start-sim-server.ts';
import {
  openAIHeaders,
  postJson,
  readJson,
  readSse,
  weatherTools,
  type OpenAIChatBody,
  type OpenAIChunk,
  type OpenAIErrorBody,
} from './sim-test-support.ts';

interface EmbeddingsBody {
  object: string;
  data: Array<{ embedding: number[]; index: number }>;
  usage: { prompt_tokens: number };
}

interface ImagesBody {
  data: Array<{ b64_json?: string; url?: string; revised_prompt?: string }>;
}

const question = { role: 'user', content: 'What is the capital of Portugal?' };

describe('sim: OpenAI wire format', () => {
  let sim: SimServer;
  let chat: string;
  before(async () => {
    sim = await startSimServer({ seed: 11 });
    chat = `${sim.url}/v1/chat/completions`;
  });
  after(() => sim.close());

  const complete = async (body: Record<string, unknown>): Promise<OpenAIChatBody> =>
    readJson<OpenAIChatBody>(await postJson(chat, body, openAIHeaders));

  it('answers a chat completion, labelled as simulated', async () => {
    const response = await postJson(chat, { model: 'gpt-4o-mini', messages: [question] }, openAIHeaders);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-pipewright-simulated'), 'true');
    assert.match(response.headers.get('x-request-id') ?? '', /^req_/);
    const body = await readJson<OpenAIChatBody>(response);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'gpt-4o-mini');
    assert.equal(body.system_fingerprint, 'pipewright-sim');
    assert.match(body.id, /^chatcmpl-/);
    const choice = body.choices[0];
    assert.equal(choice?.message.role, 'assistant');
    assert.match(choice?.message.content ?? '', /^\[simulated\] .*capital of Portugal/);
    assert.equal(choice?.finish_reason, 'stop');
    assert.ok(body.usage.prompt_tokens > 0 && body.usage.completion_tokens > 0);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('gives the same answer to the same request', async () => {
    const first = await complete({ model: 'gpt-4o-mini', messages: [question] });
    const second = await complete({ model: 'gpt-4o-mini', messages: [question] });
    assert.equal(first.choices[0]?.message.content, second.choices[0]?.message.content);
  });

  it('streams chunks, then a usage-only chunk with empty choices, then [DONE]', async () => {
    const response = await postJson(
      chat,
      { model: 'gpt-4o-mini', messages: [question], stream: true, stream_options: { include_usage: true } },
      openAIHeaders,
    );
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = await readSse(response);
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as OpenAIChunk);
    assert.ok(
      chunks.every(
        (chunk) => chunk.object === 'chat.completion.chunk' && chunk.system_fingerprint === 'pipewright-sim',
      ),
    );
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk?.choices, []);
    assert.ok((usageChunk?.usage?.completion_tokens ?? 0) > 0);
    assert.ok(
      chunks.slice(0, -1).every((chunk) => chunk.usage === null),
      'other chunks carry usage: null',
    );
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const whole = await complete({ model: 'gpt-4o-mini', messages: [question] });
    assert.equal(text, whole.choices[0]?.message.content, 'the stream spells the same answer');
  });

  it('sends no usage chunk unless include_usage is set', async () => {
    const events = await readSse(
      await postJson(chat, { model: 'gpt-4o-mini', messages: [question], stream: true }, openAIHeaders),
    );
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as OpenAIChunk);
    assert.ok(chunks.every((chunk) => chunk.choices.length === 1 && !('usage' in chunk)));
  });

  it('calls a tool with arguments valid against its schema, streamed in fragments', async () => {
    const tools = weatherTools.map((tool) => ({ type: 'function', function: tool }));
    const request = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather forecast for Lisbon please' }],
      tools,
    };
    const body = await complete(request);
    const choice = body.choices[0];
    const call = choice?.message.tool_calls?.[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    assert.equal(call?.function.name, 'get_weather');
    assert.match(call?.id ?? '', /^call_/);
    const args = JSON.parse(call?.function.arguments ?? '') as Record<string, unknown>;
    assert.ok(new Ajv().validate(weatherTools[0]?.parameters ?? {}, args), JSON.stringify(args));
    assert.equal(args['city'], 'Lisbon');

    const events = await readSse(await postJson(chat, { ...request, stream: true }, openAIHeaders));
    const deltas = events
      .slice(0, -1)
      .flatMap((event) => (JSON.parse(event.data) as OpenAIChunk).choices[0]?.delta.tool_calls ?? []);
    assert.equal(deltas[0]?.id, call?.id);
    assert.equal(deltas[0]?.function.name, 'get_weather');
    assert.ok(deltas.length > 2, 'arguments arrive in several fragments');
    assert.equal(deltas.map((delta) => delta.function.arguments).join(''), call?.function.arguments);
  });

  it('returns JSON valid against a json_schema response format', async () => {
    const schema = {
      type: 'object',
      properties: {
        country: { type: 'string' },
        capital: { type: 'string' },
        population: { type: 'integer', minimum: 0 },
        languages: { type: 'array', items: { type: 'string' }, minItems: 1 },
      },
      required: ['country', 'capital', 'population', 'languages'],
      additionalProperties: false,
    };
    const body = await complete({
      model: 'gpt-4o-mini',
      messages: [question],
      response_format: { type: 'json_schema', json_schema: { name: 'facts', strict: true, schema } },
    });
    const value = JSON.parse(body.choices[0]?.message.content ?? '') as unknown;
    assert.ok(new Ajv().validate(schema, value), JSON.stringify(value));
  });

  it('requires the word json for json_object, as OpenAI does', async () => {
    const response = await postJson(
      chat,
      { model: 'gpt-4o-mini', messages: [question], response_format: { type: 'json_object' } },
      openAIHeaders,
    );
    assert.equal(response.status, 400);
    assert.equal((await readJson<OpenAIErrorBody>(response)).error.param, 'messages');
    const ok = await complete({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Capital of Portugal, as JSON' }],
      response_format: { type: 'json_object' },
    });
    assert.equal(typeof JSON.parse(ok.choices[0]?.message.content ?? ''), 'object');
  });

  it('names the bad field of an invalid request', async () => {
    const response = await postJson(
      chat,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 42 }] },
      openAIHeaders,
    );
    assert.equal(response.status, 400);
    const error = (await readJson<OpenAIErrorBody>(response)).error;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'messages[0].content');
    const notJson = await fetch(chat, { method: 'POST', headers: openAIHeaders, body: '{"model":' });
    assert.equal(notJson.status, 400);
    assert.match((await readJson<OpenAIErrorBody>(notJson)).error.message, /could not parse the JSON body/);
  });

  it('rejects a missing key and keys starting with "invalid" with 401', async () => {
    const missing = await postJson(chat, { model: 'gpt-4o-mini', messages: [question] });
    assert.equal(missing.status, 401);
    assert.match((await readJson<OpenAIErrorBody>(missing)).error.message, /didn't provide an API key/);
    const invalid = await postJson(
      chat,
      { model: 'gpt-4o-mini', messages: [question] },
      { authorization: 'Bearer invalid-key-123456' },
    );
    assert.equal(invalid.status, 401);
    const error = (await readJson<OpenAIErrorBody>(invalid)).error;
    assert.equal(error.code, 'invalid_api_key');
    assert.doesNotMatch(error.message, /invalid-key-123456/, 'the key is masked');
  });

  it('embeds texts so that texts sharing words are closer, in float or base64', async () => {
    const embeddings = `${sim.url}/v1/embeddings`;
    const input = ['reset my account password', 'how to reset a password', 'chocolate cake recipe'];
    const body = await readJson<EmbeddingsBody>(
      await postJson(embeddings, { model: 'text-embedding-3-small', input }, openAIHeaders),
    );
    assert.equal(body.object, 'list');
    assert.equal(body.data.length, 3);
    assert.equal(body.data[0]?.embedding.length, 256);
    assert.ok(body.usage.prompt_tokens > 0);
    const [a = [], b = [], c = []] = body.data.map((item) => item.embedding);
    const dot = (x: number[], y: number[]): number =>
      x.reduce((sum, value, index) => sum + value * (y[index] ?? 0), 0);
    assert.ok(dot(a, b) > dot(a, c));

    const encoded = await readJson<{ data: Array<{ embedding: string }> }>(
      await postJson(
        embeddings,
        { model: 'text-embedding-3-small', input: input[0], encoding_format: 'base64', dimensions: 64 },
        openAIHeaders,
      ),
    );
    const bytes = Buffer.from(encoded.data[0]?.embedding ?? '', 'base64');
    assert.equal(bytes.length, 64 * 4);
    const small = await readJson<EmbeddingsBody>(
      await postJson(
        embeddings,
        { model: 'text-embedding-3-small', input: input[0], dimensions: 64 },
        openAIHeaders,
      ),
    );
    assert.ok(Math.abs(bytes.readFloatLE(0) - (small.data[0]?.embedding[0] ?? Number.NaN)) < 1e-7);
  });

  it('generates a PNG as b64_json or as a data URL', async () => {
    const images = `${sim.url}/v1/images/generations`;
    const b64 = await readJson<ImagesBody>(
      await postJson(
        images,
        { model: 'dall-e-3', prompt: 'a lighthouse at dusk', size: '1024x1024', response_format: 'b64_json' },
        openAIHeaders,
      ),
    );
    const png = Buffer.from(b64.data[0]?.b64_json ?? '', 'base64');
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.readUInt32BE(16), 256, 'width capped at 256');
    assert.match(b64.data[0]?.revised_prompt ?? '', /^\[simulated\]/);
    const url = await readJson<ImagesBody>(
      await postJson(
        images,
        { model: 'dall-e-2', prompt: 'a lighthouse at dusk', size: '256x256', n: 2 },
        openAIHeaders,
      ),
    );
    assert.equal(url.data.length, 2);
    assert.match(url.data[0]?.url ?? '', /^data:image\/png;base64,iVBOR/);
  });

  it('lists models', async () => {
    const body = await readJson<{ object: string; data: Array<{ id: string; object: string }> }>(
      await fetch(`${sim.url}/v1/models`, { headers: openAIHeaders }),
    );
    assert.equal(body.object, 'list');
    assert.ok(body.data.some((model) => model.id === 'gpt-4o-mini' && model.object === 'model'));
  });

  it('answers an unknown URL with a 404 in OpenAI format', async () => {
    const response = await postJson(`${sim.url}/v1/completions`, {}, openAIHeaders);
    assert.equal(response.status, 404);
    assert.match((await readJson<OpenAIErrorBody>(response)).error.message, /Unknown request URL/);
  });

  it('works with the official openai SDK, streaming included', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello there' }],
      n: 2,
    });
    assert.equal(completion.choices.length, 2);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello there' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let completionTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    assert.equal(text, completion.choices[0]?.message.content);
    assert.ok(completionTokens > 0);
    const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    assert.equal(embedding.data[0]?.embedding.length, 256, 'the SDK decodes its default base64 encoding');
  });

  it('serves Azure OpenAI deployment paths with api-key auth', async () => {
    const url = `${sim.url}/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21`;
    const ok = await readJson<OpenAIChatBody>(
      await postJson(url, { messages: [question] }, { 'api-key': 'azure-key' }),
    );
    assert.equal(ok.model, 'my-gpt');
    const limited = await postJson(
      url,
      { messages: [question] },
      { 'api-key': 'azure-key', 'x-sim-fault': 'status=429; retry-after=3' },
    );
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('x-ms-retry-after-ms'), '3000');
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.equal((await readJson<{ error: { code: string } }>(limited)).error.code, '429');
    assert.equal(countSimRequests(sim.stats(), { endpoint: 'azure.chat', outcome: 'rate_limited' }), 1);
  });
});
