import type { ProviderError } from '../core/index.ts';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ImagesRequest,
  ImagesResponse,
} from '../spec/index.ts';

/**
 * A provider's name, the `provider` of a deployment: one of the registered provider definitions
 * (`providerDefinitions`: openai, anthropic, gemini, openai-compatible, azure, sim, or one a
 * library user registers).
 */
export type ProviderName = string;

/**
 * One concrete place a model runs: a provider, an upstream model name, an endpoint and a key.
 * Model groups (what clients ask for) resolve to one or more deployments. Deployments are read,
 * never changed, once calls use them (adapters parse `options` once per deployment object).
 */
export interface Deployment {
  /** Unique id of this deployment, e.g. `openai-gpt4o-eu`. */
  id: string;
  /** The provider definition that serves it: `openai`, `anthropic`, `gemini`, `openai-compatible`, `azure`, `sim`… */
  provider: ProviderName;
  /** The model name the upstream expects (`gpt-4o-mini`, `claude-sonnet-4-5`, `gemini-2.5-flash`). */
  model: string;
  /** Base URL without a trailing slash: `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  apiKey?: string | undefined;
  /** Extra headers sent on every call (OpenRouter's `HTTP-Referer`, a proxy's auth…). */
  headers?: Record<string, string> | undefined;
  /**
   * The provider's own settings, as its definition's schema describes them: Azure's
   * `apiVersion` and `deploymentName`, Anthropic's `version`, `beta` and `defaultMaxTokens`,
   * OpenAI's `organization` and `project`, the sim's `wireFormat` (docs/configuration.md).
   */
  options?: Readonly<Record<string, unknown>> | undefined;
  /** Context window in tokens, when known (used by fallbacks and pre-call checks). */
  contextWindow?: number | undefined;
}

/** A wire request ready to send: the adapter's output, the transport's input. */
export interface HttpRequestSpec {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  /** A JSON-serialisable body. */
  body?: unknown;
}

/** What a transform needs to know besides the wire payload. */
export interface TransformContext {
  deployment: Deployment;
  /** Receive time in unix seconds, used when the upstream omits `created`. */
  created: number;
  /** A fallback response id when the upstream omits one. */
  fallbackId: string;
}

/** One server-sent event as parsed from the wire. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/**
 * Turns one provider's SSE events into canonical chunks. Stateful per stream (tool-call
 * indexes, usage accumulated across events).
 */
export interface StreamTransformer {
  /** Canonical chunks for one event. Throws ProviderError for malformed data or an error event. */
  push(event: SseEvent): ChatChunk[];
  /** Whether the provider's end-of-stream marker has been seen (`[DONE]`, `message_stop`, a finish reason). */
  readonly done: boolean;
  /**
   * Called when the body ends. Returns any trailing chunks; throws a `stream_cut` ProviderError
   * when the stream ended before its terminator.
   */
  finish(): ChatChunk[];
}

/** The error body and headers of a failed upstream response, for mapping to the taxonomy. */
export interface UpstreamFailure {
  status: number;
  headers: Record<string, string>;
  /** The raw body text (may be empty or not JSON). */
  body: string;
}

/**
 * A provider adapter: pure transforms between the canonical (OpenAI) shape and one
 * provider's wire format, plus mapping of its errors. No I/O happens here.
 */
export interface ProviderAdapter {
  readonly name: ProviderName;
  buildChatRequest(
    request: ChatRequest,
    deployment: Deployment,
    options: { stream: boolean },
  ): HttpRequestSpec;
  parseChatResponse(body: unknown, context: TransformContext): ChatResponse;
  createStreamTransformer(context: TransformContext): StreamTransformer;
  buildEmbeddingsRequest?(request: EmbeddingsRequest, deployment: Deployment): HttpRequestSpec;
  parseEmbeddingsResponse?(body: unknown, context: TransformContext): EmbeddingsResponse;
  buildImagesRequest?(request: ImagesRequest, deployment: Deployment): HttpRequestSpec;
  parseImagesResponse?(body: unknown, context: TransformContext): ImagesResponse;
  /** Maps a non-2xx response to the taxonomy, with retry-after in milliseconds when given. */
  parseError(failure: UpstreamFailure, deployment: Deployment): ProviderError;
}

/** What came back from an upstream call besides the payload (rate-limit headers feed the limiter). */
export interface UpstreamMeta {
  status: number;
  headers: Record<string, string>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra headers for this call only (e.g. the sim's fault-injection header, an idempotency key). */
  headers?: Record<string, string>;
}

/** A started stream: headers have arrived with a 2xx; chunks follow. */
export interface ChatStreamResult {
  meta: UpstreamMeta;
  chunks: AsyncIterable<ChatChunk>;
}

/**
 * Calls deployments: adapter transforms + HTTP transport. Errors before a stream starts are
 * thrown from the returned promise (so callers can still fall back); errors mid-stream are
 * thrown from the iterator.
 */
export interface ProviderClient {
  chat(
    request: ChatRequest,
    deployment: Deployment,
    options?: CallOptions,
  ): Promise<{ response: ChatResponse; meta: UpstreamMeta }>;
  chatStream(request: ChatRequest, deployment: Deployment, options?: CallOptions): Promise<ChatStreamResult>;
  embed(
    request: EmbeddingsRequest,
    deployment: Deployment,
    options?: CallOptions,
  ): Promise<{ response: EmbeddingsResponse; meta: UpstreamMeta }>;
  images(
    request: ImagesRequest,
    deployment: Deployment,
    options?: CallOptions,
  ): Promise<{ response: ImagesResponse; meta: UpstreamMeta }>;
  close(): Promise<void>;
}
