import type { EmbeddingsResponse } from '../../spec/index.ts';
import { parseWirePayload } from '../shared/index.ts';
import type { TransformContext } from '../types.ts';
import { openAIEmbeddingsResponseSchema } from './openai-api-schemas.ts';

/**
 * An `/embeddings` body → the canonical response, sorted by `index`, with usage zeroed when the
 * server omits it.
 *
 * @example
 * parseOpenAIEmbeddingsResponse({ data: [{ index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 3, total_tokens: 3 } }, context, 'openai');
 */
export function parseOpenAIEmbeddingsResponse(
  body: unknown,
  context: TransformContext,
  provider: string,
): EmbeddingsResponse {
  const wire = parseWirePayload(openAIEmbeddingsResponseSchema, body, {
    provider,
    deployment: context.deployment.id,
  });
  const data = wire.data
    .map((item, position) => ({
      object: 'embedding' as const,
      index: item.index ?? position,
      embedding: item.embedding,
    }))
    .sort((a, b) => a.index - b.index);
  const prompt = wire.usage?.prompt_tokens ?? 0;
  return {
    object: 'list',
    data,
    model: wire.model ?? context.deployment.model,
    usage: { prompt_tokens: prompt, total_tokens: wire.usage?.total_tokens ?? prompt },
  };
}
