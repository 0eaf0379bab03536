import { z } from 'zod';

/**
 * Minimal, tolerant schemas of OpenAI's wire payloads (and of the many servers that copy them).
 * Only what we read is checked; unknown fields pass; fields servers often omit are optional.
 */

const usageSchema = z.looseObject({
  prompt_tokens: z.number().nonnegative().optional(),
  completion_tokens: z.number().nonnegative().optional(),
  total_tokens: z.number().nonnegative().optional(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
});

export type OpenAIUsage = z.infer<typeof usageSchema>;

const toolCallSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.looseObject({
    name: z.string(),
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  }),
});

export const openAIChatResponseSchema = z.looseObject({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nonnegative().nullish(),
      message: z.looseObject({
        role: z.string().nullish(),
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: usageSchema.nullish(),
});

export type OpenAIChatResponse = z.infer<typeof openAIChatResponseSchema>;

export const openAIEmbeddingsResponseSchema = z.looseObject({
  model: z.string().nullish(),
  data: z.array(
    z.looseObject({
      index: z.number().int().nonnegative().nullish(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  usage: usageSchema.nullish(),
});

export const openAIImagesResponseSchema = z.looseObject({
  created: z.number().nullish(),
  data: z.array(
    z.looseObject({
      url: z.string().nullish(),
      b64_json: z.string().nullish(),
      revised_prompt: z.string().nullish(),
    }),
  ),
  usage: z
    .looseObject({
      input_tokens: z.number().nullish(),
      output_tokens: z.number().nullish(),
      total_tokens: z.number().nullish(),
    })
    .nullish(),
});

/**
 * Error bodies seen in the wild: OpenAI's envelope `{error:{message,type,code,param}}`,
 * Ollama's `{error:"…"}`, vLLM's flat `{object:"error",message,type,code}`, FastAPI's `{detail}`.
 */
export const openAIErrorBodySchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.looseObject({
        message: z.unknown().optional(),
        type: z.string().nullish(),
        code: z.union([z.string(), z.number()]).nullish(),
        // A param that is not a string names nothing a client could use; it never fails the mapping.
        param: z.string().nullish().catch(undefined),
      }),
    ])
    .nullish(),
  // Mistral sends an object here (`{detail:[…]}`); vLLM a string.
  message: z.unknown().optional(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  param: z.string().nullish().catch(undefined),
  detail: z.unknown().optional(),
});

export type OpenAIErrorBody = z.infer<typeof openAIErrorBodySchema>;
