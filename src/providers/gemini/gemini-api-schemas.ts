import { z } from 'zod';
import { tokenCountSchema } from '../shared/index.ts';

/**
 * Tolerant schemas of what the adapter reads from the Gemini API
 * (https://ai.google.dev/api/generate-content, /api/embeddings, Google's error model). Unknown
 * fields pass; fields Gemini omits are optional (null counts as absent); a field of the wrong
 * type is a `malformed_response` naming it. Parts of kinds the adapter does not read (inline
 * images, executable code, thought signatures) pass unchecked.
 */

export const geminiUsageSchema = z.looseObject({
  promptTokenCount: tokenCountSchema.nullish(),
  candidatesTokenCount: tokenCountSchema.nullish(),
  thoughtsTokenCount: tokenCountSchema.nullish(),
  cachedContentTokenCount: tokenCountSchema.nullish(),
  toolUsePromptTokenCount: tokenCountSchema.nullish(),
  totalTokenCount: tokenCountSchema.nullish(),
});

export type GeminiUsage = z.infer<typeof geminiUsageSchema>;

const functionCallSchema = z.looseObject({
  name: z.string().min(1, 'a function call needs a name'),
  args: z.record(z.string(), z.unknown()).nullish(),
  /** Set by newer models; older ones give calls no id. */
  id: z.string().nullish(),
});

export const geminiPartSchema = z.looseObject({
  text: z.string().nullish(),
  /** A thought summary, not part of the answer. */
  thought: z.boolean().nullish(),
  functionCall: functionCallSchema.nullish(),
});

export const geminiCandidateSchema = z.looseObject({
  index: z.number().int().nonnegative().nullish(),
  finishReason: z.string().nullish(),
  // A candidate stopped by a safety check may come without content, or content without parts.
  content: z
    .looseObject({ role: z.string().nullish(), parts: z.array(geminiPartSchema).nullish() })
    .nullish(),
});

export type GeminiCandidate = z.infer<typeof geminiCandidateSchema>;

/** A `GenerateContentResponse`: the whole answer, or one event of a stream. */
export const geminiResponseSchema = z.looseObject({
  candidates: z.array(geminiCandidateSchema).nullish(),
  promptFeedback: z
    .looseObject({ blockReason: z.string().nullish(), blockReasonMessage: z.string().nullish() })
    .nullish(),
  usageMetadata: geminiUsageSchema.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
});

export type GeminiResponse = z.infer<typeof geminiResponseSchema>;

/** A `batchEmbedContents` answer. */
export const geminiEmbeddingsResponseSchema = z.looseObject({
  embeddings: z.array(z.looseObject({ values: z.array(z.number()) })),
  usageMetadata: z.looseObject({ promptTokenCount: tokenCountSchema.nullish() }).nullish(),
});

// Error envelopes are read to map a failure, never to reject it: a field of the wrong type is
// dropped (`catch`) so the status and the other fields still decide the kind.
const lenientString = z.string().nullish().catch(undefined);

const errorDetailSchema = z.looseObject({
  '@type': lenientString,
  /** google.rpc.ErrorInfo */
  reason: lenientString,
  /** google.rpc.RetryInfo, a protobuf Duration such as `"34.4s"` */
  retryDelay: lenientString,
  /** google.rpc.QuotaFailure */
  violations: z
    .array(z.looseObject({ quotaId: lenientString, quotaMetric: lenientString }).catch({}))
    .nullish()
    .catch(undefined),
});

/** Google's error envelope `{error:{code, message, status, details:[…]}}`. */
export const geminiErrorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    code: z.number().nullish().catch(undefined),
    message: lenientString,
    status: lenientString,
    details: z.array(errorDetailSchema.catch({})).nullish().catch(undefined),
  }),
});

export type GeminiErrorEnvelope = z.infer<typeof geminiErrorEnvelopeSchema>;
