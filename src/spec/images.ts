import { z } from 'zod';
import { parseWithSchema } from './validation.ts';

/** The largest image side any provider draws (4096 px); a larger size is refused before the call. */
export const maxImageSide = 4096;

export const imagesRequestSchema = z.looseObject({
  model: z.string().min(1, 'must be a non-empty string'),
  prompt: z.string().min(1, 'must be a non-empty string').max(32000),
  n: z.number().int().min(1).max(10).optional(),
  size: z
    .string()
    .regex(/^(auto|\d{2,5}x\d{2,5})$/, 'must be WIDTHxHEIGHT or auto')
    .refine(
      (size) => size === 'auto' || size.split('x').every((side) => Number(side) <= maxImageSide),
      `must be at most ${maxImageSide} pixels a side`,
    )
    .optional(),
  quality: z.string().optional(),
  style: z.string().optional(),
  response_format: z.enum(['url', 'b64_json']).optional(),
  background: z.string().optional(),
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  user: z.string().optional(),
});

export type ImagesRequest = z.infer<typeof imagesRequestSchema>;

export interface ImagesResponse {
  created: number;
  data: Array<{ url?: string; b64_json?: string; revised_prompt?: string }>;
  usage?: { input_tokens?: number; output_tokens?: number; total_tokens?: number };
}

export function parseImagesRequest(value: unknown): ImagesRequest {
  return parseWithSchema(imagesRequestSchema, value, { what: 'body' });
}
