import { z } from 'zod';
import { parseWithSchema } from '../../spec/index.ts';
import type { JsonSchema, SimMessage, SimPrompt, SimToolChoice } from './sim-prompt.ts';

const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const blockSchema = z.looseObject({ type: z.string().min(1, 'must name the block type') });
const contentSchema = z.union([z.string(), z.array(blockSchema)]);
// Anthropic says "Field required" for a missing field; other problems keep zod's wording.
const required = {
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'Field required' : undefined),
};
const jsonSchemaFormat = z.looseObject({
  type: z.literal('json_schema'),
  schema: z.record(z.string(), z.unknown()),
});

/** The parts of the Messages API request the sim reads; other fields pass unchecked. */
const messagesRequestSchema = z.looseObject({
  model: z.string(required).min(1, 'must not be empty'),
  max_tokens: z.number(required).int().min(1, 'must be at least 1'),
  messages: z
    .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: contentSchema }), required)
    .min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
  tool_choice: z
    .looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() })
    .refine((choice) => choice.type !== 'tool' || choice.name !== undefined, {
      message: "name is required when type is 'tool'",
      path: ['name'],
    })
    .optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  output_format: jsonSchemaFormat.optional(),
  output_config: z.looseObject({ format: jsonSchemaFormat.optional() }).optional(),
});

type Block = z.infer<typeof blockSchema>;

/**
 * An Anthropic Messages body → a SimPrompt (validation errors name the field, e.g.
 * `max_tokens: Field required`). Structured output comes from `output_config.format` or the
 * beta `output_format`.
 */
export function convertAnthropicRequest(body: unknown): { prompt: SimPrompt; stream: boolean } {
  const request = parseWithSchema(messagesRequestSchema, body, { what: 'body' });
  const toolNames = new Map<string, string>();
  const messages: SimMessage[] = request.messages.map((message) => {
    const blocks: Block[] =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    const text: string[] = [];
    const out: SimMessage = { role: message.role, text: '', imageCount: 0, toolCalls: [], toolResults: [] };
    for (const block of blocks) {
      if (block.type === 'text' && typeof block['text'] === 'string') text.push(block['text']);
      else if (block.type === 'image' || block.type === 'document') out.imageCount++;
      else if (
        block.type === 'tool_use' &&
        typeof block['id'] === 'string' &&
        typeof block['name'] === 'string'
      ) {
        toolNames.set(block['id'], block['name']);
        out.toolCalls.push({
          id: block['id'],
          name: block['name'],
          arguments: JSON.stringify(block['input'] ?? {}),
        });
      } else if (block.type === 'tool_result') {
        const id = typeof block['tool_use_id'] === 'string' ? block['tool_use_id'] : '';
        out.toolResults.push({
          callId: id,
          name: toolNames.get(id) ?? 'the tool',
          content: resultText(block['content']),
        });
      }
    }
    out.text = text.join('\n');
    return out;
  });
  const format = request.output_config?.format ?? request.output_format;
  const prompt: SimPrompt = {
    model: request.model,
    system:
      typeof request.system === 'string'
        ? request.system
        : (request.system ?? []).map((block) => block.text).join('\n'),
    messages,
    tools: (request.tools ?? [])
      .filter((tool) => tool.input_schema !== undefined)
      .map((tool) => ({
        name: tool.name,
        description: tool.description ?? '',
        parameters: tool.input_schema as JsonSchema,
      })),
    toolChoice: convertToolChoice(request.tool_choice),
    output: format === undefined ? { type: 'text' } : { type: 'json_schema', schema: format.schema },
    maxTokens: request.max_tokens,
    stop: request.stop_sequences ?? [],
    n: 1,
  };
  return { prompt, stream: request.stream === true };
}

function convertToolChoice(
  choice: { type: 'auto' | 'any' | 'tool' | 'none'; name?: string | undefined } | undefined,
): SimToolChoice {
  if (choice === undefined || choice.type === 'auto') return { mode: 'auto' };
  if (choice.type === 'none') return { mode: 'none' };
  if (choice.type === 'any') return { mode: 'required' };
  return { mode: 'named', name: choice.name ?? '' };
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: unknown) =>
      typeof block === 'object' && block !== null && (block as Block).type === 'text'
        ? String((block as Block)['text'] ?? '')
        : '',
    )
    .join('\n');
}
