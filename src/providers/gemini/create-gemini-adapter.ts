import type { ProviderAdapter } from '../types.ts';
import { buildGeminiChatRequest } from './build-gemini-chat-request.ts';
import { buildGeminiEmbeddingsRequest } from './build-gemini-embeddings-request.ts';
import { createGeminiStreamTransformer } from './create-gemini-stream-transformer.ts';
import { parseGeminiEmbeddingsResponse } from './parse-gemini-embeddings-response.ts';
import { parseGeminiError } from './parse-gemini-error.ts';
import { parseGeminiResponse } from './parse-gemini-response.ts';

export interface GeminiAdapterOptions {
  /** The current time in ms since the epoch, for HTTP-date retry-after values (tests inject it). */
  now?: () => number;
}

/**
 * The Gemini API adapter (Google AI Studio, `generativelanguage.googleapis.com/v1beta`): pure
 * transforms between the canonical (OpenAI) chat and embeddings shapes and `generateContent`,
 * `streamGenerateContent?alt=sse` and `batchEmbedContents`, plus error mapping.
 *
 * @example
 * const adapter = createGeminiAdapter();
 * const spec = adapter.buildChatRequest(request, { id: 'g', provider: 'gemini', model: 'gemini-2.5-flash',
 *   baseUrl: 'https://generativelanguage.googleapis.com/v1beta', apiKey: 'AIza…' }, { stream: true });
 */
export function createGeminiAdapter(options: GeminiAdapterOptions = {}): ProviderAdapter {
  const now = options.now ?? Date.now;
  return {
    name: 'gemini',
    buildChatRequest: buildGeminiChatRequest,
    parseChatResponse: parseGeminiResponse,
    createStreamTransformer: createGeminiStreamTransformer,
    buildEmbeddingsRequest: buildGeminiEmbeddingsRequest,
    parseEmbeddingsResponse: parseGeminiEmbeddingsResponse,
    parseError: (failure, deployment) => parseGeminiError(failure, deployment, now),
  };
}

/**
 * The Gemini adapter with the system clock. Stateless: every stream gets its own transformer,
 * so sharing this object is safe.
 *
 * @example
 * import { geminiAdapter } from './providers/gemini/index.ts';
 * const spec = geminiAdapter.buildChatRequest(request, deployment, { stream: false });
 */
export const geminiAdapter = createGeminiAdapter();
