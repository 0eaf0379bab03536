import type { Deployment, ProviderAdapter } from '../types.ts';
import { convertToOpenAIChatRequest } from './convert-to-openai-chat-request.ts';
import { mapOpenAIError } from './map-openai-error.ts';
import { createOpenAIStreamTransformer } from './openai-stream-transformer.ts';
import { parseOpenAIChatResponse } from './parse-openai-chat-response.ts';
import { parseOpenAIEmbeddingsResponse } from './parse-openai-embeddings-response.ts';
import { parseOpenAIImagesResponse } from './parse-openai-images-response.ts';

/** The OpenAI endpoints an adapter calls, relative to the API root. */
export type OpenAIOperation = 'chat/completions' | 'embeddings' | 'images/generations';

/** What differs between OpenAI, Azure and OpenAI-compatible servers. */
export interface OpenAIAdapterOptions {
  /** The provider name the adapter reports in errors and telemetry. */
  name: string;
  /** The full URL of an operation for a deployment. Default: `{baseUrl}/{operation}`. */
  resolveUrl?(deployment: Deployment, operation: OpenAIOperation): string;
  /** Auth headers. Default: `authorization: Bearer {apiKey}` when a key is set. */
  createAuthHeaders?(deployment: Deployment): Record<string, string>;
  /** Whether a stream must end with `[DONE]` to count as complete. Default true. */
  requireDoneMarker?: boolean;
  /** Whether to send `stream_options.include_usage` for this deployment. Default true. */
  includeStreamUsage?(deployment: Deployment): boolean;
  /** Rename `max_tokens` for OpenAI reasoning models (o1/o3/o4/gpt-5). Default false. */
  renameMaxTokensForReasoningModels?: boolean;
}

/** `Authorization: Bearer …` when the deployment has a key; nothing otherwise (local servers). */
export function createBearerAuthHeaders(deployment: Deployment): Record<string, string> {
  return deployment.apiKey === undefined || deployment.apiKey === ''
    ? {}
    : { authorization: `Bearer ${deployment.apiKey}` };
}

function defaultResolveUrl(deployment: Deployment, operation: OpenAIOperation): string {
  return `${trimTrailingSlash(deployment.baseUrl)}/${operation}`;
}

/** Base URLs are documented without a trailing slash; tolerate one anyway. */
export function trimTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
}

/**
 * An adapter for the OpenAI wire format, configured for one flavour of server. Used for
 * `openai`, `azure`, `openai-compatible` and the sim's OpenAI dialect.
 *
 * @example
 * const adapter = createOpenAIAdapter({ name: 'openai-compatible', requireDoneMarker: false });
 * const spec = adapter.buildChatRequest(request, deployment, { stream: true });
 */
export function createOpenAIAdapter(options: OpenAIAdapterOptions): ProviderAdapter {
  const name = options.name;
  const resolveUrl = options.resolveUrl ?? defaultResolveUrl;
  const createAuthHeaders = options.createAuthHeaders ?? createBearerAuthHeaders;
  const requireDoneMarker = options.requireDoneMarker ?? true;
  const includeStreamUsage = options.includeStreamUsage ?? (() => true);
  const renameMaxTokensForReasoningModels = options.renameMaxTokensForReasoningModels ?? false;

  return {
    name,
    buildChatRequest(request, deployment, { stream }) {
      return {
        method: 'POST',
        url: resolveUrl(deployment, 'chat/completions'),
        headers: { 'content-type': 'application/json', ...createAuthHeaders(deployment) },
        body: convertToOpenAIChatRequest(request, deployment, {
          stream,
          includeStreamUsage: includeStreamUsage(deployment),
          renameMaxTokensForReasoningModels,
        }),
      };
    },
    parseChatResponse(body, context) {
      return parseOpenAIChatResponse(body, context, name);
    },
    createStreamTransformer(context) {
      return createOpenAIStreamTransformer(context, { provider: name, requireDoneMarker });
    },
    buildEmbeddingsRequest(request, deployment) {
      return {
        method: 'POST',
        url: resolveUrl(deployment, 'embeddings'),
        headers: { 'content-type': 'application/json', ...createAuthHeaders(deployment) },
        body: { ...request, model: deployment.model },
      };
    },
    parseEmbeddingsResponse(body, context) {
      return parseOpenAIEmbeddingsResponse(body, context, name);
    },
    buildImagesRequest(request, deployment) {
      return {
        method: 'POST',
        url: resolveUrl(deployment, 'images/generations'),
        headers: { 'content-type': 'application/json', ...createAuthHeaders(deployment) },
        body: { ...request, model: deployment.model },
      };
    },
    parseImagesResponse(body, context) {
      return parseOpenAIImagesResponse(body, context, name);
    },
    parseError(failure, deployment) {
      return mapOpenAIError(failure, deployment, name);
    },
  };
}
