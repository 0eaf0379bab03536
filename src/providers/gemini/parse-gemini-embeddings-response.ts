import type { EmbeddingsResponse } from '../../spec/index.ts';
import type { TransformContext } from '../types.ts';
import { createMalformedResponseError, isRecord } from '../shared/index.ts';
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
  const source = { provider: geminiProvider, deployment: context.deployment.id };
  if (!isRecord(body)) throw createMalformedResponseError(source, 'expected a JSON object');
  if (body.error !== undefined) throw createGeminiEmbeddedError(body, context.deployment.id);
  if (!Array.isArray(body.embeddings))
    throw createMalformedResponseError(source, 'embeddings: expected an array');
  const data = body.embeddings.map((item: unknown, index) => {
    const values = isRecord(item) ? item.values : undefined;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'number')) {
      throw createMalformedResponseError(source, `embeddings[${index}].values: expected an array of numbers`);
    }
    return { object: 'embedding' as const, index, embedding: values as number[] };
  });
  const usage =
    isRecord(body.usageMetadata) && typeof body.usageMetadata.promptTokenCount === 'number'
      ? body.usageMetadata.promptTokenCount
      : 0;
  return {
    object: 'list',
    data,
    model: context.deployment.model,
    usage: { prompt_tokens: usage, total_tokens: usage },
  };
}
