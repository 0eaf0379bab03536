import { z } from 'zod';
import { parseWithSchema } from '../../spec/index.ts';
import type { JsonSchema, SimMessage, SimPrompt, SimToolChoice } from './sim-prompt.ts';

const partSchema = z.looseObject({
  text: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.looseObject({ fileUri: z.string() }).optional(),
  functionCall: z
    .looseObject({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() })
    .optional(),
  functionResponse: z.looseObject({ name: z.string().min(1), response: z.unknown().optional() }).optional(),
});

const generateContentSchema = z.looseObject({
  contents: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'model', 'function']).optional(),
        parts: z.array(partSchema).min(1, 'must contain at least one part'),
      }),
    )
    .min(1, 'contents is not specified'),
  systemInstruction: z.looseObject({ parts: z.array(partSchema) }).optional(),
  tools: z
    .array(
      z.looseObject({
        functionDeclarations: z
          .array(
            z.looseObject({
              name: z.string().min(1),
              description: z.string().optional(),
              parameters: z.record(z.string(), z.unknown()).optional(),
              parametersJsonSchema: z.record(z.string(), z.unknown()).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
  toolConfig: z
    .looseObject({
      functionCallingConfig: z
        .looseObject({
          mode: z.enum(['AUTO', 'ANY', 'NONE', 'VALIDATED', 'MODE_UNSPECIFIED']).optional(),
          allowedFunctionNames: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  generationConfig: z
    .looseObject({
      maxOutputTokens: z.number().int().min(1).optional(),
      stopSequences: z.array(z.string()).max(5).optional(),
      candidateCount: z.number().int().min(1).max(8).optional(),
      responseMimeType: z.string().optional(),
      responseSchema: z.record(z.string(), z.unknown()).optional(),
      responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
      temperature: z.number().min(0).max(2).optional(),
    })
    .optional(),
});

type GenerateContentRequest = z.infer<typeof generateContentSchema>;

/**
 * A Gemini `generateContent` body → a SimPrompt. The REST API accepts snake_case field names
 * too (`system_instruction`, `generation_config`), so those are read as well.
 */
export function convertGeminiRequest(body: unknown, model: string): SimPrompt {
  const request = parseWithSchema(generateContentSchema, normaliseKeys(body), { what: 'body' });
  const messages: SimMessage[] = request.contents.map((content) => {
    const out: SimMessage = {
      role: content.role === 'model' ? 'assistant' : 'user',
      text: '',
      imageCount: 0,
      toolCalls: [],
      toolResults: [],
    };
    const text: string[] = [];
    for (const part of content.parts) {
      if (part.text !== undefined && part['thought'] !== true) text.push(part.text);
      if (part.inlineData !== undefined || part.fileData !== undefined) out.imageCount++;
      if (part.functionCall !== undefined) {
        out.toolCalls.push({
          id: part.functionCall.name,
          name: part.functionCall.name,
          arguments: JSON.stringify(part.functionCall.args ?? {}),
        });
      }
      if (part.functionResponse !== undefined) {
        out.toolResults.push({
          callId: part.functionResponse.name,
          name: part.functionResponse.name,
          content: JSON.stringify(part.functionResponse.response ?? {}),
        });
      }
    }
    out.text = text.join('\n');
    return out;
  });
  const config = request.generationConfig ?? {};
  const schema = config.responseJsonSchema ?? config.responseSchema;
  const output: SimPrompt['output'] =
    config.responseMimeType === 'application/json'
      ? schema === undefined
        ? { type: 'json' }
        : { type: 'json_schema', schema }
      : { type: 'text' };
  const declarations = (request.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  const calling = request.toolConfig?.functionCallingConfig;
  const allowed = calling?.allowedFunctionNames;
  const tools = declarations
    .filter((declaration) => allowed === undefined || allowed.includes(declaration.name))
    .map((declaration) => ({
      name: declaration.name,
      description: declaration.description ?? '',
      parameters: (declaration.parametersJsonSchema ??
        declaration.parameters ?? { type: 'object', properties: {} }) as JsonSchema,
    }));
  return {
    model,
    system: (request.systemInstruction?.parts ?? []).map((part) => part.text ?? '').join('\n'),
    messages,
    tools,
    toolChoice: convertToolChoice(calling, tools.length),
    output,
    maxTokens: config.maxOutputTokens,
    stop: config.stopSequences ?? [],
    n: config.candidateCount ?? 1,
  };
}

function convertToolChoice(
  calling: NonNullable<GenerateContentRequest['toolConfig']>['functionCallingConfig'],
  toolCount: number,
): SimToolChoice {
  if (calling?.mode === 'NONE') return { mode: 'none' };
  if (calling?.mode === 'ANY' || calling?.mode === 'VALIDATED') {
    const only = calling.allowedFunctionNames;
    return only !== undefined && only.length === 1 && toolCount > 0
      ? { mode: 'named', name: only[0] as string }
      : { mode: 'required' };
  }
  return { mode: 'auto' };
}

const snakeAliases: Record<string, string> = {
  system_instruction: 'systemInstruction',
  generation_config: 'generationConfig',
  tool_config: 'toolConfig',
  safety_settings: 'safetySettings',
  function_declarations: 'functionDeclarations',
  function_calling_config: 'functionCallingConfig',
  allowed_function_names: 'allowedFunctionNames',
  max_output_tokens: 'maxOutputTokens',
  stop_sequences: 'stopSequences',
  candidate_count: 'candidateCount',
  response_mime_type: 'responseMimeType',
  response_schema: 'responseSchema',
  response_json_schema: 'responseJsonSchema',
  parameters_json_schema: 'parametersJsonSchema',
  inline_data: 'inlineData',
  file_data: 'fileData',
  function_call: 'functionCall',
  function_response: 'functionResponse',
  mime_type: 'mimeType',
  file_uri: 'fileUri',
  output_dimensionality: 'outputDimensionality',
};

// Containers whose keys are the user's own data (schemas, arguments): never renamed.
const opaqueKeys = new Set([
  'parameters',
  'parametersJsonSchema',
  'responseSchema',
  'responseJsonSchema',
  'args',
  'response',
]);

/** Renames the known snake_case keys to camelCase, outside schemas and arguments. */
function normaliseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = snakeAliases[key] ?? key;
    out[name] = opaqueKeys.has(name) ? item : normaliseKeys(item);
  }
  return out;
}

/** A Gemini embedding request's texts and dimensions. */
const embedRequestSchema = z.looseObject({
  content: z.looseObject({ parts: z.array(z.looseObject({ text: z.string().optional() })).min(1) }),
  outputDimensionality: z.number().int().min(1).max(3072).optional(),
});

const batchEmbedSchema = z.looseObject({
  requests: z
    .array(embedRequestSchema)
    .min(1, 'must contain at least one request')
    .max(100, 'at most 100 requests per batch'),
});

export interface GeminiEmbedInput {
  texts: string[];
  dimensions: Array<number | undefined>;
}

/** `:embedContent` (one) or `:batchEmbedContents` (many) → texts to embed. */
export function convertGeminiEmbedRequest(body: unknown, batch: boolean): GeminiEmbedInput {
  const renamed = normaliseKeys(body);
  const requests = batch
    ? parseWithSchema(batchEmbedSchema, renamed, { what: 'body' }).requests
    : [parseWithSchema(embedRequestSchema, renamed, { what: 'body' })];
  return {
    texts: requests.map((request) => request.content.parts.map((part) => part.text ?? '').join('\n')),
    dimensions: requests.map((request) => request.outputDimensionality),
  };
}
