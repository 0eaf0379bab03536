import type { EmbeddingsResponse } from '../../spec/index.ts';
import type { TransformContext } from '../types.ts';
import { isRecord, parseWirePayload } from '../shared/index.ts';
import { geminiEmbeddingsResponseSchema } from './gemini-api-schemas.ts';
import { geminiProvider } from './gemini-wire.ts';
import { createGeminiEmbeddedError } from './parse-gemini-error.ts';

/**
 * Converts a `batchEmbedContents` response (`{embeddings:[{values:[…]}]}`) to the OpenAI
 * embeddings shape, in input order. Gemini reports no token usage for embeddings unless it
 * sends `usageMetadata.promptTokenCount`; otherwise usage is zero. Vectors are returned as
 * floats.
 *
 * @example
 * parseGeminiEmbeddingsResponse({ embeddings: [{ values: [0.1, 0.2] }] }, context);
 * // { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'gemini-embedding-001', usage: { prompt_tokens: 0, total_tokens: 0 } }
 */
export function parseGeminiEmbeddingsResponse(body: unknown, context: TransformContext): EmbeddingsResponse {
  if (isRecord(body) && body.error !== undefined)
    throw createGeminiEmbeddedError(body, context.deployment.id, 'body');
  const wire = parseWirePayload(geminiEmbeddingsResponseSchema, body, {
    provider: geminiProvider,
    deployment: context.deployment.id,
  });
  const usage = wire.usageMetadata?.promptTokenCount ?? 0;
  return {
    object: 'list',
    data: wire.embeddings.map((item, index) => ({
      object: 'embedding' as const,
      index,
      embedding: item.values,
    })),
    model: context.deployment.model,
    usage: { prompt_tokens: usage, total_tokens: usage },
  };
}
