import { z } from 'zod';
import { parseWithSchema } from './validation.ts';

/**
 * `dimensions` only shortens a model's native vector (12,288 is the largest any model has had):
 * anything past this is refused before it reaches a provider that might try to allocate it.
 */
export const maxEmbeddingDimensions = 16_384;

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  input: z.union(
    [
      z.string(),
      z.array(z.string()).min(1, 'must contain at least one input').max(2048, 'at most 2048 inputs per call'),
      z.array(z.number().int().nonnegative()).min(1),
      z.array(z.array(z.number().int().nonnegative()).min(1)).min(1).max(2048),
    ],
    { error: 'must be a string, or a non-empty array (at most 2048) of strings or of token arrays' },
  ),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z
    .number()
    .int()
    .positive()
    .max(maxEmbeddingDimensions, `must be at most ${maxEmbeddingDimensions}`)
    .optional(),
  user: z.string().optional(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function parseEmbeddingsRequest(value: unknown): EmbeddingsRequest {
  return parseWithSchema(embeddingsRequestSchema, value, { what: 'body' });
}
