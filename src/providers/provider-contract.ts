import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorCodes, ProviderError, type ErrorCode } from '../core/index.ts';
import {
  normalizeUsage,
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type FinishReason,
  type Usage,
} from '../spec/index.ts';
import {
  contractRequests,
  type ChatExpectation,
  type ErrorScenario,
  type FixtureResponse,
  type ProviderContractOptions,
  type SentRequestExpectation,
  type UsageExpectation,
} from './contract-fixtures.ts';
import { createProviderClient } from './provider-client.ts';
import { createProviderRegistry } from './registry.ts';
import type { CallOptions, Deployment, ProviderClient } from './types.ts';

/**
 * The provider contract suite, in the style of Hono's shared router tests: every adapter runs
 * the same scenarios through the real `createProviderClient` against a fake upstream
 * (node:http on 127.0.0.1:0) that serves the adapter's recorded wire fixtures. See
 * `./contract-fixtures.ts` for the fixture format and a complete example.
 *
 * Not exported from `providers/index.ts`: tests import it from this path.
 *
 * @example
 * // src/providers/openai/openai.contract.test.ts
 * import { runProviderContract } from '../provider-contract.ts';
 * import { openAIContractFixtures } from './__fixtures__/openai-contract-fixtures.ts';
 *
 * runProviderContract({
 *   name: 'openai',
 *   createDeployment: (origin) => ({ id: 'contract-openai', provider: 'openai', model: 'gpt-4o-mini', baseUrl: `${origin}/v1`, apiKey: 'sk-test' }),
 *   fixtures: openAIContractFixtures,
 * });
 */
export function runProviderContract(options: ProviderContractOptions): void {
  const { fixtures } = options;

  describe(`provider contract: ${options.name}`, { timeout: 20_000 }, () => {
    let upstream: FakeUpstream;
    let client: ProviderClient;
    let deployment: Deployment;
    let scenarioCounter = 0;

    before(async () => {
      upstream = await startFakeUpstream();
      deployment = options.createDeployment(upstream.origin);
      const adapter = options.adapter;
      client = createProviderClient({
        registry: adapter === undefined ? createProviderRegistry() : { getAdapter: () => adapter },
        // Small timeouts: a hang must fail the test, never stall the run.
        transportOptions: { connectTimeoutMs: 2_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000 },
      });
    });

    after(async () => {
      await client.close();
      await upstream.close();
    });

    /** Registers a response under a fresh scenario id and returns the call options that select it. */
    function serve(
      response: FixtureResponse,
      ending: StreamEnding = 'end',
    ): { id: string; callOptions: CallOptions } {
      scenarioCounter += 1;
      const id = `scenario-${scenarioCounter}`;
      upstream.serve(id, response, ending);
      return { id, callOptions: { headers: { [scenarioHeader]: id } } };
    }

    const request = (name: keyof typeof contractRequests): ChatRequest =>
      structuredClone(contractRequests[name]);

    it('plain text: sends the expected request and returns the canonical response', async () => {
      const { id, callOptions } = serve(fixtures.plainText.response);
      const { response, meta } = await client.chat(request('plainText'), deployment, callOptions);
      assert.equal(meta.status, fixtures.plainText.response.status ?? 200);
      assertChatResponse(response, fixtures.plainText.expect);
      assertSentRequest(upstream.requestFor(id), fixtures.plainText.sent);
    });

    it('tool call: sends the tools and returns the tool call with parsed arguments', async () => {
      const { id, callOptions } = serve(fixtures.toolCall.response);
      const { response } = await client.chat(request('toolCall'), deployment, callOptions);
      assertChatResponse(response, fixtures.toolCall.expect);
      assert.ok(
        (response.choices[0]?.message.tool_calls?.length ?? 0) > 0,
        'expected at least one tool call',
      );
      assertSentRequest(upstream.requestFor(id), fixtures.toolCall.sent);
    });

    it('JSON output: response_format json_schema yields content that parses as the expected JSON', async () => {
      const { id, callOptions } = serve(fixtures.jsonOutput.response);
      const { response } = await client.chat(request('jsonOutput'), deployment, callOptions);
      assertChatResponse(response, fixtures.jsonOutput.expect);
      const content = response.choices[0]?.message.content;
      assert.equal(typeof content, 'string', 'JSON output must be text content');
      assert.deepEqual(JSON.parse(content ?? ''), fixtures.jsonOutput.expect.json);
      if (fixtures.jsonOutput.sent !== undefined)
        assertSentRequest(upstream.requestFor(id), fixtures.jsonOutput.sent);
    });

    it('stream of text: sends a streaming request and yields canonical chunks that reassemble to the text', async () => {
      const { id, callOptions } = serve(fixtures.streamText.response);
      const { meta, chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      assert.equal(meta.status, 200);
      const assembled = await collectStream(chunks);
      assertAssembled(assembled, fixtures.streamText.expect);
      assertSentRequest(upstream.requestFor(id), fixtures.streamText.sent);
    });

    it('stream with tool-call fragments: arguments reassemble by index; the first fragment has id and name', async () => {
      const { id, callOptions } = serve(fixtures.streamToolCall.response);
      const { chunks } = await client.chatStream(request('toolCall'), deployment, callOptions);
      const assembled = await collectStream(chunks);
      assert.ok(assembled.toolCalls.length > 0, 'expected tool calls in the stream');
      if (fixtures.streamToolCall.wholeArguments === true) {
        assert.equal(
          assembled.toolCallDeltaCount,
          assembled.toolCalls.length,
          'each tool call arrives whole in one fragment',
        );
      } else {
        assert.ok(
          assembled.toolCallDeltaCount > assembled.toolCalls.length,
          'the fixture must split tool-call arguments over several events',
        );
      }
      assertAssembled(assembled, fixtures.streamToolCall.expect);
      if (fixtures.streamToolCall.sent !== undefined)
        assertSentRequest(upstream.requestFor(id), fixtures.streamToolCall.sent);
    });

    it('usage in the stream: the final usage is captured', async () => {
      const { callOptions } = serve(fixtures.streamUsage.response);
      const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      const assembled = await collectStream(chunks);
      assert.ok(assembled.usage !== undefined, 'expected a chunk carrying usage');
      assertAssembled(assembled, fixtures.streamUsage.expect);
    });

    const errorScenarios: ErrorScenario[] = [
      fixtures.errors.badRequest,
      fixtures.errors.authentication,
      fixtures.errors.notFound,
      ...fixtures.errors.rateLimited,
      fixtures.errors.quotaExhausted,
      fixtures.errors.contextLengthExceeded,
      fixtures.errors.serverError,
      ...fixtures.errors.overloaded,
      ...(fixtures.errors.contentFiltered === undefined ? [] : [fixtures.errors.contentFiltered]),
    ];
    assertErrorFixtureCoverage(options.name, fixtures.errors);

    for (const scenario of errorScenarios) {
      it(`error ${scenario.name}: chat and chatStream reject with ${scenario.expect.kind}`, async () => {
        const chat = serve(scenario.response);
        await assert.rejects(
          client.chat(request('plainText'), deployment, chat.callOptions),
          (error: unknown) => assertProviderError(error, scenario, deployment),
        );
        const stream = serve(scenario.response);
        await assert.rejects(
          client.chatStream(request('plainText'), deployment, stream.callOptions),
          (error: unknown) => assertProviderError(error, scenario, deployment),
        );
      });
    }

    it('malformed JSON body on a 200: rejects with malformed_response', async () => {
      const { callOptions } = serve(fixtures.malformedJson.response);
      await assert.rejects(client.chat(request('plainText'), deployment, callOptions), (error: unknown) => {
        assertKind(error, 'malformed_response', deployment);
        return true;
      });
    });

    it('stream ended before its terminator: the iterator throws stream_cut, never a clean end', async () => {
      const { callOptions } = serve(fixtures.streamCut.response, 'end');
      const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      const error = await drainExpectingError(chunks);
      assertKind(error, 'stream_cut', deployment);
    });

    it('stream whose socket is destroyed mid-body: the iterator throws stream_cut', async () => {
      const { callOptions } = serve(fixtures.streamCut.response, 'destroy');
      const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      const error = await drainExpectingError(chunks);
      assertKind(error, 'stream_cut', deployment);
    });

    it('malformed chunk mid-stream: the iterator throws malformed_response', async () => {
      const { callOptions } = serve(fixtures.streamMalformedChunk.response);
      const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      const error = await drainExpectingError(chunks);
      assertKind(error, 'malformed_response', deployment);
    });

    const streamErrorEvent = fixtures.streamErrorEvent;
    if (streamErrorEvent !== undefined) {
      it(`error inside a 200 stream: the iterator throws ${streamErrorEvent.expect.kind}`, async () => {
        const { callOptions } = serve(streamErrorEvent.response);
        const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
        const error = await drainExpectingError(chunks);
        assertKind(error, streamErrorEvent.expect.kind, deployment);
        assertUpstreamFields(error, streamErrorEvent.expect);
      });
    }

    it('client abort mid-stream: the iterator throws aborted and the upstream socket is closed', async () => {
      const { id, callOptions } = serve(fixtures.streamCut.response, 'hang');
      const controller = new AbortController();
      const { chunks } = await client.chatStream(request('plainText'), deployment, {
        ...callOptions,
        signal: controller.signal,
      });
      const iterator = chunks[Symbol.asyncIterator]();
      const first = await iterator.next();
      assert.equal(first.done, false, 'the stream-cut fixture must yield at least one chunk before it stops');
      controller.abort();
      const error = await drainIteratorExpectingError(iterator);
      assertKind(error, 'aborted', deployment);
      await upstream.waitForClose(id);
    });

    it('client abort before the response headers: chatStream rejects with aborted and the socket is closed', async () => {
      const { id, callOptions } = serve({ status: 200 }, 'hang-before-headers');
      const controller = new AbortController();
      const pending = client.chatStream(request('plainText'), deployment, {
        ...callOptions,
        signal: controller.signal,
      });
      await upstream.waitForRequest(id);
      controller.abort();
      await assert.rejects(pending, (error: unknown) => {
        assertKind(error, 'aborted', deployment);
        return true;
      });
      await upstream.waitForClose(id);
    });

    it('consumer stops iterating early: the upstream socket is closed', async () => {
      const { id, callOptions } = serve(fixtures.streamCut.response, 'hang');
      const { chunks } = await client.chatStream(request('plainText'), deployment, callOptions);
      for await (const chunk of chunks) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        break;
      }
      await upstream.waitForClose(id);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Assertions

function assertErrorFixtureCoverage(
  name: string,
  errors: ProviderContractOptions['fixtures']['errors'],
): void {
  assert.ok(errors.rateLimited.length > 0, `${name}: at least one rate-limit fixture is required`);
  assert.ok(errors.overloaded.length > 0, `${name}: at least one overload fixture (503/529) is required`);
  assert.equal(
    errors.quotaExhausted.expect.kind,
    'quota_exhausted',
    `${name}: the quota fixture must expect quota_exhausted`,
  );
  assert.equal(
    errors.contextLengthExceeded.expect.kind,
    'context_length_exceeded',
    `${name}: the context-length fixture must expect context_length_exceeded`,
  );
}

function assertKind(
  error: unknown,
  kind: ProviderError['kind'],
  deployment: Deployment,
): asserts error is ProviderError {
  assert.ok(ProviderError.isProviderError(error), `expected a ProviderError, got ${describeError(error)}`);
  assert.equal(error.kind, kind, `expected kind ${kind}, got ${error.kind}: ${error.message}`);
  assert.equal(error.deployment, deployment.id, 'the error must name the deployment');
  assert.ok(error.message.length > 0);
}

function assertProviderError(error: unknown, scenario: ErrorScenario, deployment: Deployment): true {
  assertKind(error, scenario.expect.kind, deployment);
  assert.equal(error.upstreamStatus, scenario.response.status ?? 200, 'upstreamStatus');
  const code = `provider.${scenario.expect.kind}` as ErrorCode;
  assert.equal(error.isRetryable, scenario.expect.retryable ?? errorCodes[code].retryable, 'isRetryable');
  if (scenario.expect.retryAfterMs !== undefined) {
    assert.ok(error.retryAfterMs !== undefined, 'expected a retry-after hint');
    const tolerance = scenario.expect.retryAfterToleranceMs ?? 0;
    assert.ok(
      Math.abs(error.retryAfterMs - scenario.expect.retryAfterMs) <= tolerance,
      `retryAfterMs ${error.retryAfterMs} ≠ ${scenario.expect.retryAfterMs} ± ${tolerance}`,
    );
  }
  if (scenario.expect.providerCode !== undefined)
    assert.equal(error.providerCode, scenario.expect.providerCode, 'providerCode');
  assertUpstreamFields(error, scenario.expect);
  for (const secret of scenario.expect.messageExcludes ?? [])
    assert.ok(!error.message.includes(secret), `the message must not show ${secret}: ${error.message}`);
  return true;
}

/** The upstream's own code, type and param, as the fixture recorded them (only those it names). */
function assertUpstreamFields(
  error: ProviderError,
  expect: Pick<ErrorScenario['expect'], 'upstreamCode' | 'upstreamType' | 'upstreamParam'>,
): void {
  if (expect.upstreamCode !== undefined)
    assert.equal(error.upstreamCode, expect.upstreamCode, 'upstreamCode');
  if (expect.upstreamType !== undefined)
    assert.equal(error.upstreamType, expect.upstreamType, 'upstreamType');
  if ('upstreamParam' in expect) assert.equal(error.upstreamParam, expect.upstreamParam, 'upstreamParam');
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function assertChatResponse(response: ChatResponse, expect: ChatExpectation): void {
  assert.equal(response.object, 'chat.completion');
  assert.ok(typeof response.id === 'string' && response.id.length > 0, 'response.id');
  assert.ok(Number.isInteger(response.created), 'response.created');
  assert.ok(typeof response.model === 'string' && response.model.length > 0, 'response.model');
  const choice = response.choices[0];
  assert.ok(choice !== undefined, 'expected a choice');
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.finish_reason, expect.finishReason, 'finish_reason');
  if (expect.content !== undefined) assert.equal(choice.message.content, expect.content, 'content');
  if (expect.toolCalls !== undefined) {
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, expect.toolCalls.length, 'number of tool calls');
    expect.toolCalls.forEach((expected, index) => {
      const call = calls[index];
      assert.ok(call !== undefined);
      assert.ok(call.id.length > 0, 'tool call id');
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, expected.name);
      assert.deepEqual(JSON.parse(call.function.arguments), expected.arguments);
    });
  }
  if (expect.usage !== undefined) assertUsage(response.usage, expect.usage);
}

function assertUsage(usage: Usage | null | undefined, expected: UsageExpectation): void {
  assert.ok(usage !== undefined && usage !== null, 'expected usage');
  const normalized = normalizeUsage(usage);
  assert.equal(normalized.inputTokens, expected.inputTokens, 'input tokens');
  assert.equal(normalized.outputTokens, expected.outputTokens, 'output tokens');
  assert.equal(
    usage.total_tokens,
    usage.prompt_tokens + usage.completion_tokens,
    'total_tokens = prompt + completion',
  );
  if (expected.cachedInputTokens !== undefined)
    assert.equal(normalized.cachedInputTokens, expected.cachedInputTokens, 'cached input tokens');
  if (expected.cacheWriteTokens !== undefined)
    assert.equal(normalized.cacheWriteTokens, expected.cacheWriteTokens, 'cache write tokens');
  if (expected.reasoningTokens !== undefined)
    assert.equal(normalized.reasoningTokens, expected.reasoningTokens, 'reasoning tokens');
}

interface AssembledStream {
  content: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  toolCallDeltaCount: number;
  finishReason: FinishReason | null;
  usage: Usage | undefined;
  chunkCount: number;
}

async function collectStream(chunks: AsyncIterable<ChatChunk>): Promise<AssembledStream> {
  let content: string | null = null;
  const toolCalls: AssembledStream['toolCalls'] = [];
  let toolCallDeltaCount = 0;
  let finishReason: FinishReason | null = null;
  let usage: Usage | undefined;
  let chunkCount = 0;
  for await (const chunk of chunks) {
    chunkCount += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.ok(typeof chunk.id === 'string' && chunk.id.length > 0, 'chunk.id');
    assert.ok(Number.isInteger(chunk.created), 'chunk.created');
    assert.ok(Array.isArray(chunk.choices), 'chunk.choices must be an array (empty on the usage chunk)');
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
    for (const choice of chunk.choices) {
      assert.equal(choice.index, 0, 'only choice 0 is requested');
      if (typeof choice.delta.content === 'string') content = (content ?? '') + choice.delta.content;
      for (const delta of choice.delta.tool_calls ?? []) {
        toolCallDeltaCount += 1;
        assert.equal(typeof delta.index, 'number', 'tool-call delta index');
        let call = toolCalls[delta.index];
        if (call === undefined) {
          assert.ok(
            typeof delta.id === 'string' && delta.id.length > 0,
            `the first fragment of tool call ${delta.index} must carry its id`,
          );
          assert.ok(
            typeof delta.function?.name === 'string' && delta.function.name.length > 0,
            `the first fragment of tool call ${delta.index} must carry its name`,
          );
          call = { id: delta.id, name: delta.function.name, arguments: '' };
          toolCalls[delta.index] = call;
        } else if (delta.id !== undefined) {
          assert.equal(delta.id, call.id, 'a later fragment must not change the tool call id');
        }
        call.arguments += delta.function?.arguments ?? '';
      }
      if (choice.finish_reason !== null) finishReason = choice.finish_reason;
    }
  }
  return { content, toolCalls, toolCallDeltaCount, finishReason, usage, chunkCount };
}

function assertAssembled(assembled: AssembledStream, expect: ChatExpectation): void {
  assert.ok(assembled.chunkCount > 0, 'expected chunks');
  assert.equal(assembled.finishReason, expect.finishReason, 'finish_reason');
  if (expect.content !== undefined) assert.equal(assembled.content, expect.content, 'streamed content');
  if (expect.toolCalls !== undefined) {
    assert.equal(assembled.toolCalls.length, expect.toolCalls.length, 'number of tool calls');
    expect.toolCalls.forEach((expected, index) => {
      const call = assembled.toolCalls[index];
      assert.ok(call !== undefined, `tool call ${index}`);
      assert.equal(call.name, expected.name);
      assert.deepEqual(JSON.parse(call.arguments), expected.arguments, `tool call ${index} arguments`);
    });
  }
  if (expect.usage !== undefined) assertUsage(assembled.usage, expect.usage);
}

async function drainExpectingError(chunks: AsyncIterable<ChatChunk>): Promise<unknown> {
  return drainIteratorExpectingError(chunks[Symbol.asyncIterator]());
}

async function drainIteratorExpectingError(iterator: AsyncIterator<ChatChunk>): Promise<unknown> {
  try {
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) {
      // Chunks before the failure are fine; a clean end is not.
    }
  } catch (error) {
    return error;
  }
  assert.fail('the stream ended cleanly; expected the iterator to throw');
}

function assertSentRequest(sent: RecordedRequest, expect: SentRequestExpectation): void {
  assert.equal(sent.method, expect.method ?? 'POST', 'method');
  assert.equal(sent.path, expect.path, 'path');
  for (const [name, expected] of Object.entries(expect.headers ?? {})) {
    const actual = sent.headers[name.toLowerCase()];
    assert.ok(actual !== undefined, `header ${name} was not sent`);
    if (expected instanceof RegExp) assert.match(actual, expected, `header ${name}`);
    else assert.equal(actual, expected, `header ${name}`);
  }
  for (const name of expect.absentHeaders ?? [])
    assert.equal(sent.headers[name.toLowerCase()], undefined, `header ${name} must not be sent`);
  if (expect.body !== undefined) assertPartialMatch(sent.body, expect.body, 'body');
  for (const field of expect.absentBodyFields ?? []) {
    assert.ok(
      typeof sent.body === 'object' && sent.body !== null && !(field in sent.body),
      `body.${field} must not be sent`,
    );
  }
}

/** Every key of `expected` must match in `actual`; arrays element by element; RegExp matches strings. */
export function assertPartialMatch(actual: unknown, expected: unknown, path: string): void {
  if (expected instanceof RegExp) {
    assert.equal(typeof actual, 'string', `${path}: expected a string`);
    assert.match(actual as string, expected, path);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((item, index) => assertPartialMatch(actual[index], item, `${path}[${index}]`));
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    assert.ok(
      typeof actual === 'object' && actual !== null && !Array.isArray(actual),
      `${path}: expected an object, got ${JSON.stringify(actual)}`,
    );
    for (const [key, value] of Object.entries(expected))
      assertPartialMatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  assert.deepEqual(actual, expected, path);
}

// ---------------------------------------------------------------------------------------------
// The fake upstream

const scenarioHeader = 'x-contract-scenario';

/** `end`: body complete; `destroy`: socket destroyed after the body is written; `hang`: kept open. */
type StreamEnding = 'end' | 'destroy' | 'hang' | 'hang-before-headers';

interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

interface FakeUpstream {
  origin: string;
  serve(id: string, response: FixtureResponse, ending: StreamEnding): void;
  requestFor(id: string): RecordedRequest;
  waitForRequest(id: string): Promise<void>;
  /** Resolves when the response socket for a scenario closes; rejects after 3 s (the failure, not a sleep). */
  waitForClose(id: string): Promise<void>;
  close(): Promise<void>;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function createDeferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

async function startFakeUpstream(): Promise<FakeUpstream> {
  const scenarios = new Map<string, { response: FixtureResponse; ending: StreamEnding }>();
  const requests = new Map<string, RecordedRequest>();
  const arrived = new Map<string, Deferred>();
  const closed = new Map<string, Deferred>();
  const deferred = (map: Map<string, Deferred>, id: string): Deferred => {
    let entry = map.get(id);
    if (entry === undefined) {
      entry = createDeferred();
      map.set(id, entry);
    }
    return entry;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = String(req.headers[scenarioHeader] ?? '');
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        // Recorded as text; the sent-request assertions will show it.
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      requests.set(id, { method: req.method ?? '', path: req.url ?? '', headers, body });
      res.on('close', () => deferred(closed, id).resolve());
      deferred(arrived, id).resolve();
      const scenario = scenarios.get(id);
      if (scenario === undefined) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { message: `contract upstream: no scenario ${JSON.stringify(id)}` } }),
        );
        return;
      }
      writeFixture(res, scenario.response, scenario.ending);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    serve(id, response, ending) {
      scenarios.set(id, { response, ending });
    },
    requestFor(id) {
      const recorded = requests.get(id);
      assert.ok(recorded !== undefined, `the upstream never received the request for ${id}`);
      return recorded;
    },
    waitForRequest(id) {
      return withDeadline(deferred(arrived, id).promise, `the upstream never received the request for ${id}`);
    },
    waitForClose(id) {
      return withDeadline(deferred(closed, id).promise, 'the upstream socket was not closed');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function withDeadline(promise: Promise<void>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), 3_000);
  });
  try {
    await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function writeFixture(res: ServerResponse, response: FixtureResponse, ending: StreamEnding): void {
  if (ending === 'hang-before-headers') return;
  const headers: Record<string, string> = { ...response.headers };
  let payload = '';
  if (response.sseEvents !== undefined) {
    headers['content-type'] ??= 'text/event-stream';
    for (const event of response.sseEvents) payload += formatSseEvent(event.event, event.data);
  } else if (response.raw !== undefined) {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    payload = response.raw;
  } else if (response.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = JSON.stringify(response.body);
  }
  res.writeHead(response.status ?? 200, headers);
  if (ending === 'end') {
    res.end(payload);
    return;
  }
  res.write(payload, () => {
    // Let the bytes reach the client before the socket goes away, so the cut is mid-body.
    if (ending === 'destroy') setTimeout(() => res.socket?.destroy(), 10);
  });
}

function formatSseEvent(event: string | undefined, data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  let out = event === undefined ? '' : `event: ${event}\n`;
  for (const line of text.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}
