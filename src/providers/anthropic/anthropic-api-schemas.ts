import { z } from 'zod';
import { createWireVariantSchema, tokenCountSchema } from '../shared/index.ts';

/**
 * Tolerant schemas of what the adapter reads from Anthropic's Messages API
 * (https://docs.anthropic.com/en/api/messages, /en/api/messages-streaming, /en/api/errors).
 * Unknown fields pass; fields upstreams or proxies omit are optional (null counts as absent); a
 * field of the wrong type is a `malformed_response` naming it. Block, delta and event types
 * added after this adapter was written pass as `{ type: 'other' }` and are skipped.
 */

export const anthropicUsageSchema = z.looseObject({
  input_tokens: tokenCountSchema.nullish(),
  output_tokens: tokenCountSchema.nullish(),
  cache_read_input_tokens: tokenCountSchema.nullish(),
  cache_creation_input_tokens: tokenCountSchema.nullish(),
});

export type AnthropicUsage = z.infer<typeof anthropicUsageSchema>;

const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });

const toolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown().optional(),
});

/** A content block: text and client tool calls are read; thinking, server tools and newer types are skipped. */
export const anthropicContentBlockSchema = createWireVariantSchema({
  text: textBlockSchema,
  tool_use: toolUseBlockSchema,
});

export type AnthropicResponseBlock = z.infer<typeof anthropicContentBlockSchema>;

/** A whole `message` answer. */
export const anthropicMessageSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  content: z.array(anthropicContentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: anthropicUsageSchema.nullish(),
});

export type AnthropicMessageResponse = z.infer<typeof anthropicMessageSchema>;

// Error envelopes are read to map a failure, never to reject it: a field of the wrong type is
// dropped (`catch`) so the status and the other fields still decide the kind.
const lenientString = z.string().nullish().catch(undefined);

/**
 * The error envelope `{type:'error', error:{type, message, details:{error_code}}, request_id}`,
 * as an HTTP error body, a 200 body or the data of an `error` stream event.
 */
export const anthropicErrorEnvelopeSchema = z.looseObject({
  error: z
    .looseObject({
      type: lenientString,
      message: lenientString,
      details: z.looseObject({ error_code: lenientString }).nullish().catch(undefined),
    })
    .catch({}),
  request_id: lenientString,
});

export type AnthropicErrorEnvelope = z.infer<typeof anthropicErrorEnvelopeSchema>;

const blockIndexSchema = z.number().int().nonnegative();

/** The stream events the transformer reads (`ping`, `content_block_stop` and newer ones pass as other). */
export const anthropicStreamEventSchema = createWireVariantSchema({
  message_start: z.looseObject({
    type: z.literal('message_start'),
    message: z.looseObject({
      id: z.string().nullish(),
      model: z.string().nullish(),
      usage: anthropicUsageSchema.nullish(),
    }),
  }),
  content_block_start: z.looseObject({
    type: z.literal('content_block_start'),
    index: blockIndexSchema,
    content_block: anthropicContentBlockSchema,
  }),
  content_block_delta: z.looseObject({
    type: z.literal('content_block_delta'),
    index: blockIndexSchema,
    delta: createWireVariantSchema({
      text_delta: z.looseObject({ type: z.literal('text_delta'), text: z.string() }),
      input_json_delta: z.looseObject({ type: z.literal('input_json_delta'), partial_json: z.string() }),
    }),
  }),
  message_delta: z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish() }).nullish(),
    usage: anthropicUsageSchema.nullish(),
  }),
  message_stop: z.looseObject({ type: z.literal('message_stop') }),
  error: anthropicErrorEnvelopeSchema.extend({ type: z.literal('error') }),
});

export type AnthropicStreamEvent = z.infer<typeof anthropicStreamEventSchema>;
