import { ProviderError } from '../../src/core/index.ts';
import type {
  CallOptions,
  ChatStreamResult,
  Deployment,
  ProviderClient,
  UpstreamMeta,
} from '../../src/providers/types.ts';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ImagesRequest,
  ImagesResponse,
} from '../../src/spec/index.ts';

/** A script may answer later (a Promise) to model a slow or hanging upstream. */
export type ChatScript = (
  request: ChatRequest,
  deployment: Deployment,
) => ChatResponse | ProviderError | Promise<ChatResponse | ProviderError>;
export type StreamScript = (
  request: ChatRequest,
  deployment: Deployment,
) =>
  | Array<ChatChunk | ProviderError | Promise<ChatChunk | ProviderError>>
  | ProviderError
  | Promise<Array<ChatChunk | ProviderError | Promise<ChatChunk | ProviderError>> | ProviderError>;

const meta: UpstreamMeta = { status: 200, headers: {} };

/** A scriptable ProviderClient for engine unit tests: records every call, answers from scripts. */
export type EmbedScript = (input: string, deployment: Deployment) => number[] | ProviderError;

export function createFakeProviderClient(
  scripts: { chat?: ChatScript; stream?: StreamScript; embed?: EmbedScript } = {},
) {
  const calls: Array<{
    operation: string;
    deployment: string;
    request: unknown;
    options: CallOptions | undefined;
  }> = [];
  const client: ProviderClient & { calls: typeof calls } = {
    calls,
    async chat(request, deployment, options) {
      calls.push({ operation: 'chat', deployment: deployment.id, request, options });
      const answer = await (scripts.chat ?? defaultChat)(request, deployment);
      if (answer instanceof ProviderError) throw answer;
      return { response: answer, meta };
    },
    async chatStream(request, deployment, options): Promise<ChatStreamResult> {
      calls.push({ operation: 'stream', deployment: deployment.id, request, options });
      const script = await (scripts.stream ?? defaultStream)(request, deployment);
      if (script instanceof ProviderError) throw script;
      return {
        meta,
        chunks: (async function* () {
          for (const pending of script) {
            const item = await pending;
            if (item instanceof ProviderError) throw item;
            yield item;
          }
        })(),
      };
    },
    async embed(
      request: EmbeddingsRequest,
      deployment,
    ): Promise<{ response: EmbeddingsResponse; meta: UpstreamMeta }> {
      calls.push({ operation: 'embed', deployment: deployment.id, request, options: undefined });
      const inputs = Array.isArray(request.input) ? request.input : [request.input];
      const embed = scripts.embed;
      const vectors = inputs.map((input, index) =>
        embed === undefined ? [index, 1] : embed(String(input), deployment),
      );
      const failure = vectors.find((vector) => vector instanceof ProviderError);
      if (failure !== undefined) throw failure;
      return {
        response: {
          object: 'list',
          model: deployment.model,
          data: vectors.map((embedding, index) => ({
            object: 'embedding',
            index,
            embedding: embedding as number[],
          })),
          usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
        },
        meta,
      };
    },
    async images(
      request: ImagesRequest,
      deployment,
    ): Promise<{ response: ImagesResponse; meta: UpstreamMeta }> {
      calls.push({ operation: 'images', deployment: deployment.id, request, options: undefined });
      return { response: { created: 1, data: [{ b64_json: 'iVBORw0KGgo=' }] }, meta };
    },
    async close() {},
  };
  return client;
}

export function textResponse(
  content: string,
  options: {
    model?: string;
    finish?: ChatResponse['choices'][number]['finish_reason'];
    usage?: ChatResponse['usage'];
  } = {},
): ChatResponse {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1,
    model: options.model ?? 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: options.finish ?? 'stop' }],
    usage: options.usage ?? { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function defaultChat(request: ChatRequest, deployment: Deployment): ChatResponse {
  const last = request.messages.at(-1);
  return textResponse(`echo: ${typeof last?.content === 'string' ? last.content : ''}`, {
    model: deployment.model,
  });
}

export function chunk(
  delta: ChatChunk['choices'][number]['delta'],
  finish: ChatChunk['choices'][number]['finish_reason'] = null,
): ChatChunk {
  return {
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

export function usageChunk(prompt: number, completion: number): ChatChunk {
  return {
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

function defaultStream(): ChatChunk[] {
  return [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hel' }),
    chunk({ content: 'lo' }),
    chunk({}, 'stop'),
    usageChunk(7, 2),
  ];
}
