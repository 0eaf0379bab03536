import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { startSimServer, type SimServer } from './start-sim-server.ts';
import {
  geminiHeaders,
  postJson,
  readJson,
  readSse,
  weatherTools,
  type GeminiBody,
  type GeminiErrorBody,
} from './sim-test-support.ts';

const contents = [{ role: 'user', parts: [{ text: 'Explain how tides work near Brest' }] }];

describe('sim: Gemini wire format', () => {
  let sim: SimServer;
  let models: string;
  before(async () => {
    sim = await startSimServer();
    models = `${sim.url}/v1beta/models`;
  });
  after(() => sim.close());

  it('answers generateContent with usage metadata', async () => {
    const response = await postJson(
      `${models}/gemini-2.5-flash:generateContent`,
      { contents, systemInstruction: { parts: [{ text: 'Be brief' }] } },
      geminiHeaders,
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-pipewright-simulated'), 'true');
    const body = await readJson<GeminiBody>(response);
    const candidate = body.candidates?.[0];
    assert.equal(candidate?.content?.role, 'model');
    assert.match(candidate?.content?.parts[0]?.text ?? '', /^\[simulated\] .*tides/);
    assert.equal(candidate?.finishReason, 'STOP');
    assert.equal(body.modelVersion, 'gemini-2.5-flash');
    const usage = body.usageMetadata;
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + (usage.candidatesTokenCount ?? 0));
  });

  it('accepts the key as a query parameter and snake_case fields', async () => {
    const response = await postJson(`${models}/gemini-2.5-flash:generateContent?key=AIza-sim`, {
      contents,
      generation_config: { max_output_tokens: 4 },
    });
    const body = await readJson<GeminiBody>(response);
    assert.equal(body.candidates?.[0]?.finishReason, 'MAX_TOKENS');
    assert.equal(body.usageMetadata.candidatesTokenCount, 4);
  });

  it('streams with alt=sse, the last event carrying finishReason', async () => {
    const events = await readSse(
      await postJson(`${models}/gemini-2.5-flash:streamGenerateContent?alt=sse`, { contents }, geminiHeaders),
    );
    const chunks = events.map((event) => JSON.parse(event.data) as GeminiBody);
    assert.ok(chunks.length > 2);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.candidates?.[0]?.finishReason === undefined));
    assert.equal(chunks.at(-1)?.candidates?.[0]?.finishReason, 'STOP');
    const text = chunks.map((chunk) => chunk.candidates?.[0]?.content?.parts[0]?.text ?? '').join('');
    const whole = await readJson<GeminiBody>(
      await postJson(`${models}/gemini-2.5-flash:generateContent`, { contents }, geminiHeaders),
    );
    assert.equal(text, whole.candidates?.[0]?.content?.parts[0]?.text);
  });

  it('streams one JSON array without alt=sse', async () => {
    const chunks = await readJson<GeminiBody[]>(
      await postJson(`${models}/gemini-2.5-flash:streamGenerateContent`, { contents }, geminiHeaders),
    );
    assert.ok(Array.isArray(chunks) && chunks.length > 2);
    assert.equal(chunks.at(-1)?.candidates?.[0]?.finishReason, 'STOP');
  });

  it('calls a function with args valid against its declaration', async () => {
    const body = await readJson<GeminiBody>(
      await postJson(
        `${models}/gemini-2.5-flash:generateContent`,
        {
          contents: [{ role: 'user', parts: [{ text: 'Send an email to Ana about the tides report' }] }],
          tools: [{ functionDeclarations: weatherTools }],
          toolConfig: { functionCallingConfig: { mode: 'ANY' } },
        },
        geminiHeaders,
      ),
    );
    const call = body.candidates?.[0]?.content?.parts[0]?.functionCall;
    assert.equal(call?.name, 'send_email');
    assert.ok(
      new Ajv({ strict: false, validateFormats: false }).validate(
        weatherTools[1]?.parameters ?? {},
        call?.args,
      ),
      JSON.stringify(call?.args),
    );
  });

  it('returns JSON valid against an OpenAPI-style responseSchema', async () => {
    const schema = {
      type: 'OBJECT',
      properties: {
        place: { type: 'STRING' },
        highTides: { type: 'ARRAY', items: { type: 'STRING' }, minItems: 2 },
      },
      required: ['place', 'highTides'],
    };
    const body = await readJson<GeminiBody>(
      await postJson(
        `${models}/gemini-2.5-flash:generateContent`,
        { contents, generationConfig: { responseMimeType: 'application/json', responseSchema: schema } },
        geminiHeaders,
      ),
    );
    const value = JSON.parse(body.candidates?.[0]?.content?.parts[0]?.text ?? '') as Record<string, unknown>;
    const standard = {
      type: 'object',
      properties: {
        place: { type: 'string' },
        highTides: { type: 'array', items: { type: 'string' }, minItems: 2 },
      },
      required: ['place', 'highTides'],
    };
    assert.ok(new Ajv().validate(standard, value), JSON.stringify(value));
    assert.equal(value['place'], 'Brest');
  });

  it('embeds in batches with the requested dimensions', async () => {
    const body = await readJson<{ embeddings: Array<{ values: number[] }> }>(
      await postJson(
        `${models}/text-embedding-004:batchEmbedContents`,
        {
          requests: [
            {
              model: 'models/text-embedding-004',
              content: { parts: [{ text: 'ocean tides' }] },
              outputDimensionality: 32,
            },
            { model: 'models/text-embedding-004', content: { parts: [{ text: 'tides of the ocean' }] } },
          ],
        },
        geminiHeaders,
      ),
    );
    assert.equal(body.embeddings[0]?.values.length, 32);
    assert.equal(body.embeddings[1]?.values.length, 256);
  });

  it('carries RetryInfo in the body of a 429', async () => {
    const response = await postJson(
      `${models}/gemini-2.5-flash:generateContent`,
      { contents },
      { ...geminiHeaders, 'x-sim-fault': 'status=429; retry-after=34.4' },
    );
    assert.equal(response.status, 429);
    const error = (await readJson<GeminiErrorBody>(response)).error;
    assert.equal(error.status, 'RESOURCE_EXHAUSTED');
    const retry = error.details?.find(
      (detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo',
    );
    assert.equal(retry?.['retryDelay'], '34.4s');
    assert.ok(
      error.details?.some((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure'),
    );
  });

  it('signals an exhausted quota without RetryInfo, and 503 as UNAVAILABLE', async () => {
    const quota = (
      await readJson<GeminiErrorBody>(
        await postJson(
          `${models}/gemini-2.5-flash:generateContent`,
          { contents },
          { ...geminiHeaders, 'x-sim-fault': 'quota' },
        ),
      )
    ).error;
    assert.equal(quota.code, 429);
    assert.ok(
      !(quota.details ?? []).some((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo'),
    );
    const unavailable = await postJson(
      `${models}/gemini-2.5-flash:generateContent`,
      { contents },
      { ...geminiHeaders, 'x-sim-fault': 'status=503' },
    );
    assert.equal(unavailable.status, 503);
    assert.equal((await readJson<GeminiErrorBody>(unavailable)).error.status, 'UNAVAILABLE');
  });

  it('rejects keys like the real API: 400 API_KEY_INVALID, 403 when missing', async () => {
    const invalid = await postJson(
      `${models}/gemini-2.5-flash:generateContent`,
      { contents },
      { 'x-goog-api-key': 'invalid-key' },
    );
    assert.equal(invalid.status, 400);
    const error = (await readJson<GeminiErrorBody>(invalid)).error;
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.equal(error.details?.[0]?.['reason'], 'API_KEY_INVALID');
    const missing = await postJson(`${models}/gemini-2.5-flash:generateContent`, { contents });
    assert.equal(missing.status, 403);
    assert.equal((await readJson<GeminiErrorBody>(missing)).error.status, 'PERMISSION_DENIED');
  });

  it('blocks a prompt with promptFeedback, and filters output with finishReason SAFETY', async () => {
    const blocked = await readJson<GeminiBody>(
      await postJson(
        `${models}/gemini-2.5-flash:generateContent`,
        { contents },
        { ...geminiHeaders, 'x-sim-fault': 'content-filter' },
      ),
    );
    assert.equal(blocked.promptFeedback?.blockReason, 'SAFETY');
    assert.equal(blocked.candidates, undefined);
    const filtered = await readJson<GeminiBody>(
      await postJson(
        `${models}/gemini-2.5-flash:generateContent`,
        { contents },
        { ...geminiHeaders, 'x-sim-fault': 'content-filter=output' },
      ),
    );
    assert.equal(filtered.candidates?.[0]?.finishReason, 'SAFETY');
  });

  it('names the bad field of an invalid request', async () => {
    const response = await postJson(
      `${models}/gemini-2.5-flash:generateContent`,
      { contents: [] },
      geminiHeaders,
    );
    assert.equal(response.status, 400);
    assert.match((await readJson<GeminiErrorBody>(response)).error.message, /^contents: /);
  });
});
