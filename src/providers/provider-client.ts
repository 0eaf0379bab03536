import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { createId, createSystemClock, PipewrightError, ProviderError, type Clock } from '../core/index.ts';
import type { ChatChunk, ChatResponse, ChunkChoice } from '../spec/index.ts';
import {
  createHttpTransport,
  mapTransportError,
  type HttpTransport,
  type HttpTransportOptions,
  type TransportBody,
  type TransportResponse,
} from './http-transport.ts';
import { createProviderRegistry, type ProviderRegistry } from './registry.ts';
import { createMalformedResponseError, isRecord, parseJsonBody } from './shared/index.ts';
import type {
  CallOptions,
  ChatStreamResult,
  Deployment,
  HttpRequestSpec,
  ProviderAdapter,
  ProviderClient,
  SseEvent,
  StreamTransformer,
  TransformContext,
  UpstreamMeta,
} from './types.ts';

export interface ProviderClientOptions {
  /** Chooses the adapter for a deployment; defaults to every built-in adapter. */
  registry?: ProviderRegistry;
  /** Sends the HTTP requests; defaults to an undici transport the client owns (and closes). */
  transport?: HttpTransport;
  /** Options for the default transport (ignored when `transport` is given). */
  transportOptions?: HttpTransportOptions;
  clock?: Clock;
}

// An upstream that streams forever without a newline must not exhaust memory.
const maxSseBufferChars = 16 * 1024 * 1024;
// Error bodies are read for mapping only; a proxy's huge HTML page is cut here.
const maxErrorBodyChars = 64 * 1024;

/**
 * The provider client: adapter transforms + HTTP transport. Errors before a stream starts
 * reject the returned promise (so callers can still fall back); errors mid-stream are thrown
 * from the chunk iterator, a stream that ends before its terminator throws `stream_cut`.
 *
 * @example
 * const client = createProviderClient();
 * const deployment = { id: 'local', provider: 'openai-compatible', model: 'llama3.2', baseUrl: 'http://127.0.0.1:11434/v1' } as const;
 * const { chunks } = await client.chatStream({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }, deployment);
 * for await (const chunk of chunks) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
 * await client.close();
 */
export function createProviderClient(options: ProviderClientOptions = {}): ProviderClient {
  const registry = options.registry ?? createProviderRegistry();
  const ownsTransport = options.transport === undefined;
  const transport = options.transport ?? createHttpTransport(options.transportOptions);
  const clock = options.clock ?? createSystemClock();

  const createContext = (deployment: Deployment, prefix: string): TransformContext =>
    createTransformContext(deployment, prefix, clock);
  const send = (
    adapter: ProviderAdapter,
    spec: HttpRequestSpec,
    deployment: Deployment,
    callOptions: CallOptions | undefined,
  ): Promise<TransportResponse> => sendToUpstream(transport, adapter, spec, deployment, callOptions);

  return {
    async chat(request, deployment, callOptions) {
      const adapter = registry.getAdapter(deployment);
      const spec = adapter.buildChatRequest(request, deployment, { stream: false });
      const response = await send(adapter, spec, deployment, callOptions);
      const body = await readWholeBody(adapter, response, deployment, callOptions?.signal);
      const parsed = runParse(adapter, deployment, response.status, () =>
        adapter.parseChatResponse(body, createContext(deployment, 'chatcmpl')),
      );
      return { response: parsed, meta: metaOf(response) };
    },

    async chatStream(request, deployment, callOptions): Promise<ChatStreamResult> {
      const adapter = registry.getAdapter(deployment);
      const spec = adapter.buildChatRequest(request, deployment, { stream: true });
      const response = await send(adapter, spec, deployment, callOptions);
      const context = createContext(deployment, 'chatcmpl');
      const contentType = response.headers['content-type'] ?? '';
      // Some OpenAI-compatible servers ignore `stream: true` and answer with one JSON body.
      if (contentType.includes('application/json')) {
        const body = await readWholeBody(adapter, response, deployment, callOptions?.signal);
        if (isRecord(body) && body['error'] !== undefined && body['choices'] === undefined) {
          throw toDeploymentError(
            adapter.parseError(
              { status: response.status, headers: response.headers, body: JSON.stringify(body) },
              deployment,
            ),
            adapter,
            deployment,
          );
        }
        const whole = runParse(adapter, deployment, response.status, () =>
          adapter.parseChatResponse(body, context),
        );
        return { meta: metaOf(response), chunks: iterateArray(convertResponseToChunks(whole)) };
      }
      const transformer = adapter.createStreamTransformer(context);
      return {
        meta: metaOf(response),
        chunks: streamChunks(response.body, transformer, {
          adapter,
          deployment,
          status: response.status,
          signal: callOptions?.signal,
        }),
      };
    },

    async embed(request, deployment, callOptions) {
      const adapter = registry.getAdapter(deployment);
      if (adapter.buildEmbeddingsRequest === undefined || adapter.parseEmbeddingsResponse === undefined)
        throw unsupported(adapter, deployment, 'embeddings');
      const parse = adapter.parseEmbeddingsResponse.bind(adapter);
      const response = await send(
        adapter,
        adapter.buildEmbeddingsRequest(request, deployment),
        deployment,
        callOptions,
      );
      const body = await readWholeBody(adapter, response, deployment, callOptions?.signal);
      const parsed = runParse(adapter, deployment, response.status, () =>
        parse(body, createContext(deployment, 'emb')),
      );
      return { response: parsed, meta: metaOf(response) };
    },

    async images(request, deployment, callOptions) {
      const adapter = registry.getAdapter(deployment);
      if (adapter.buildImagesRequest === undefined || adapter.parseImagesResponse === undefined)
        throw unsupported(adapter, deployment, 'image generation');
      const parse = adapter.parseImagesResponse.bind(adapter);
      const response = await send(
        adapter,
        adapter.buildImagesRequest(request, deployment),
        deployment,
        callOptions,
      );
      const body = await readWholeBody(adapter, response, deployment, callOptions?.signal);
      const parsed = runParse(adapter, deployment, response.status, () =>
        parse(body, createContext(deployment, 'img')),
      );
      return { response: parsed, meta: metaOf(response) };
    },

    async close() {
      if (ownsTransport) await transport.close();
    },
  };
}

function createTransformContext(deployment: Deployment, prefix: string, clock: Clock): TransformContext {
  let fallbackId: string | undefined;
  return {
    deployment,
    created: Math.floor(clock.now() / 1000),
    // Most upstreams send their own id; only make one when an adapter asks for it.
    get fallbackId() {
      fallbackId ??= createId(prefix);
      return fallbackId;
    },
  };
}

/** Sends one wire request; a non-2xx answer is read and mapped by the adapter, then thrown. */
async function sendToUpstream(
  transport: HttpTransport,
  adapter: ProviderAdapter,
  spec: HttpRequestSpec,
  deployment: Deployment,
  callOptions: CallOptions | undefined,
): Promise<TransportResponse> {
  const extraDeploymentHeaders = deployment.headers;
  const extraCallHeaders = callOptions?.headers;
  const headers =
    extraDeploymentHeaders === undefined && extraCallHeaders === undefined
      ? spec.headers
      : { ...spec.headers, ...extraDeploymentHeaders, ...extraCallHeaders };
  const signal = callOptions?.signal;
  const response = await transport.send(headers === spec.headers ? spec : { ...spec, headers }, {
    signal,
    provider: adapter.name,
    deployment: deployment.id,
  });
  if (response.status >= 200 && response.status < 300) return response;
  const body = await readErrorBody(response.body);
  throw toDeploymentError(
    adapter.parseError({ status: response.status, headers: response.headers, body }, deployment),
    adapter,
    deployment,
  );
}

async function readWholeBody(
  adapter: ProviderAdapter,
  response: TransportResponse,
  deployment: Deployment,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw mapTransportError(error, {
      signal,
      provider: adapter.name,
      deployment: deployment.id,
      phase: 'body',
    });
  }
  return parseJsonBody(text, {
    provider: adapter.name,
    deployment: deployment.id,
    upstreamStatus: response.status,
  });
}

function metaOf(response: TransportResponse): UpstreamMeta {
  return { status: response.status, headers: response.headers };
}

interface StreamContext {
  adapter: ProviderAdapter;
  deployment: Deployment;
  status: number;
  signal: AbortSignal | undefined;
}

/**
 * Body bytes → SSE events → the adapter's transformer → canonical chunks. The upstream body
 * is destroyed whenever iteration stops before the end (consumer `return()` — even before the
 * first read —, an error, an abort), which closes the upstream socket.
 *
 * A hand-written iterator rather than an async generator: the chunks of one network read are
 * queued and handed out with one resolved promise each, and the body is read only when the queue
 * is empty (a generator pays several promise hops per chunk, which was most of a stream's CPU).
 */
function streamChunks(
  body: TransportBody,
  transformer: StreamTransformer,
  context: StreamContext,
): AsyncIterableIterator<ChatChunk> {
  const { adapter, deployment } = context;
  const pending: SseEvent[] = [];
  let parseFailure: Error | undefined;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      pending.push(
        message.event === undefined ? { data: message.data } : { event: message.event, data: message.data },
      );
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') parseFailure = error;
    },
    maxBufferSize: maxSseBufferChars,
  });
  const decoder = new TextDecoder();
  const source = body[Symbol.asyncIterator]();
  const queue: ChatChunk[] = [];
  let head = 0;
  /** A failure met while chunks read before it were still queued: thrown once they are handed out. */
  let failure: unknown;
  /** No more chunks will be queued: the body ended (and was transformed whole), failed, or was dropped. */
  let closed = false;

  const close = (destroy: boolean): void => {
    if (closed) return;
    closed = true;
    if (destroy) body.destroy();
  };

  /** Reads the body until at least one chunk is queued or it ends. */
  async function fill(): Promise<void> {
    while (head === queue.length && !closed) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await source.next();
      } catch (error) {
        throw mapTransportError(error, {
          signal: context.signal,
          provider: adapter.name,
          deployment: deployment.id,
          phase: 'stream',
        });
      }
      if (closed) return;
      if (step.done === true) {
        queue.push(...finishStream(parser, decoder, pending, transformer, context));
        close(false);
        return;
      }
      parser.feed(decoder.decode(step.value, { stream: true }));
      if (parseFailure !== undefined) {
        throw createMalformedResponseError(
          { provider: adapter.name, deployment: deployment.id, upstreamStatus: context.status },
          `SSE event larger than ${maxSseBufferChars} characters`,
        );
      }
      try {
        for (const event of pending) queue.push(...pushEvent(transformer, event, context));
      } finally {
        pending.length = 0;
      }
    }
  }

  /** Reads more, or fails; an event that fails after good ones of the same read fails once they are handed out. */
  async function fillOrDefer(): Promise<void> {
    try {
      await fill();
    } catch (error) {
      if (head === queue.length) throw error;
      failure = error;
    }
  }

  const take = (): IteratorResult<ChatChunk> => {
    if (head === queue.length) return { done: true, value: undefined };
    const value = queue[head] as ChatChunk;
    head += 1;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    return { done: false, value };
  };

  const iterator: AsyncIterableIterator<ChatChunk> = {
    next(): Promise<IteratorResult<ChatChunk>> {
      if (head < queue.length || (closed && failure === undefined)) return Promise.resolve(take());
      const ready = failure === undefined ? fillOrDefer() : Promise.reject(failure);
      return ready.then(take, (error: unknown) => {
        close(true);
        failure = undefined; // thrown once; the iterator is done after it
        queue.length = 0;
        head = 0;
        throw error;
      });
    },
    return(): Promise<IteratorResult<ChatChunk>> {
      close(true);
      queue.length = 0;
      head = 0;
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * The body ended. A last event without its blank line still counts, but if it cannot be parsed
 * the cause is the cut, not the provider's JSON. Returns the last chunks, the transformer's
 * closing ones included.
 */
function finishStream(
  parser: ReturnType<typeof createParser>,
  decoder: InstanceType<typeof TextDecoder>,
  pending: SseEvent[],
  transformer: StreamTransformer,
  context: StreamContext,
): ChatChunk[] {
  const { adapter, deployment } = context;
  // Two line ends dispatch a last event that lacked its blank line (and are a no-op otherwise).
  parser.feed(`${decoder.decode()}\n\n`);
  const tail: ChatChunk[] = [];
  for (const event of pending.splice(0)) {
    try {
      tail.push(...pushEvent(transformer, event, context));
    } catch (error) {
      if (ProviderError.isProviderError(error) && error.kind === 'malformed_response' && !transformer.done) {
        throw new ProviderError({
          ...error.toOptions(),
          kind: 'stream_cut',
          message: `${adapter.name} stream ended mid-event: ${error.message}`,
          deployment: deployment.id,
        });
      }
      throw error;
    }
  }
  try {
    tail.push(...transformer.finish());
  } catch (error) {
    throw toTransformError(error, context);
  }
  return tail;
}

function pushEvent(transformer: StreamTransformer, event: SseEvent, context: StreamContext): ChatChunk[] {
  try {
    return transformer.push(event);
  } catch (error) {
    throw toTransformError(error, context);
  }
}

function toTransformError(error: unknown, context: StreamContext): PipewrightError {
  const { adapter, deployment } = context;
  if (ProviderError.isProviderError(error)) return error.withDeployment(deployment.id);
  if (PipewrightError.isInstance(error)) return error;
  // A transformer that threw something other than a ProviderError met data it did not expect.
  const detail = error instanceof Error ? error.message : String(error);
  return createMalformedResponseError(
    { provider: adapter.name, deployment: deployment.id, upstreamStatus: context.status },
    `stream chunk could not be converted: ${detail}`,
    error,
  );
}

function runParse<T>(adapter: ProviderAdapter, deployment: Deployment, status: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (ProviderError.isProviderError(error)) throw error.withDeployment(deployment.id);
    const detail = error instanceof Error ? error.message : String(error);
    throw createMalformedResponseError(
      { provider: adapter.name, deployment: deployment.id, upstreamStatus: status },
      detail,
      error,
    );
  }
}

function toDeploymentError(
  error: ProviderError,
  adapter: ProviderAdapter,
  deployment: Deployment,
): ProviderError {
  // parseError is pure; guard against an adapter that returns something odd anyway.
  if (!ProviderError.isProviderError(error)) {
    return new ProviderError({
      kind: 'server_error',
      message: `${adapter.name} error could not be mapped`,
      provider: adapter.name,
      deployment: deployment.id,
    });
  }
  return error.withDeployment(deployment.id);
}

async function readErrorBody(body: TransportBody): Promise<string> {
  try {
    const text = await body.text();
    return text.length > maxErrorBodyChars ? text.slice(0, maxErrorBodyChars) : text;
  } catch {
    // The status alone still maps to a kind.
    return '';
  }
}

function unsupported(adapter: ProviderAdapter, deployment: Deployment, operation: string): PipewrightError {
  return new PipewrightError({
    code: 'gateway.unsupported_operation',
    message: `${operation} is not supported by provider ${adapter.name} (deployment ${deployment.id})`,
  });
}

/** A whole response as the chunks a stream would have carried (for servers that ignore `stream: true`). */
export function convertResponseToChunks(response: ChatResponse): ChatChunk[] {
  const base = {
    id: response.id,
    object: 'chat.completion.chunk' as const,
    created: response.created,
    model: response.model,
  };
  const choices: ChunkChoice[] = response.choices.map((choice) => {
    const delta: ChunkChoice['delta'] = { role: 'assistant', content: choice.message.content };
    if (choice.message.tool_calls !== undefined && choice.message.tool_calls.length > 0) {
      delta.tool_calls = choice.message.tool_calls.map((call, index) => ({
        index,
        id: call.id,
        type: 'function',
        function: { name: call.function.name, arguments: call.function.arguments },
      }));
    }
    if (choice.message.refusal !== undefined && choice.message.refusal !== null)
      delta.refusal = choice.message.refusal;
    return { index: choice.index, delta, finish_reason: choice.finish_reason };
  });
  const chunks: ChatChunk[] = [{ ...base, choices }];
  if (response.usage !== undefined) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}

async function* iterateArray<T>(items: T[]): AsyncGenerator<T, void, undefined> {
  for (const item of items) yield item;
}
