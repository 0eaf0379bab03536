import { InvalidRequestError } from '../../core/index.ts';
import type { ChatRequest } from '../../spec/index.ts';
import { jsonOutputToolName, type AnthropicTool, type AnthropicToolChoice } from './anthropic-wire.ts';

export interface AnthropicToolConfig {
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
}

/**
 * Converts tools, `tool_choice`, `parallel_tool_calls` and `response_format` to Anthropic's
 * `tools` and `tool_choice`.
 *
 * JSON output strategy: Anthropic has no `response_format`. A JSON format becomes one more
 * tool, `json_output`, whose `input_schema` is the requested schema (`{type:'object'}` for
 * `json_object`), and the model is made to call it; the response parsers turn its input back
 * into the message content. A forced tool was chosen over a system instruction because the
 * model then fills a schema-validated object (no prose around the JSON, no code fences) and
 * it works on every Claude model, unlike the newer native structured-output option. When the
 * request has tools of its own, they stay available and `tool_choice` becomes `any`, so the
 * model either calls one of them or answers through `json_output`.
 *
 * @example
 * convertToAnthropicTools({ model: 'm', messages: [], tool_choice: 'required', tools: [
 *   { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
 * ] });
 * // { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } }
 */
export function convertToAnthropicTools(request: ChatRequest): AnthropicToolConfig {
  const tools: AnthropicTool[] = (request.tools ?? []).map((tool, index) => {
    if (tool.function.name === jsonOutputToolName) {
      throw new InvalidRequestError({
        message: `tools[${index}].function.name: '${jsonOutputToolName}' is reserved by the anthropic adapter for response_format`,
        param: `tools[${index}].function.name`,
      });
    }
    const converted: AnthropicTool = {
      name: tool.function.name,
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    };
    if (tool.function.description !== undefined) converted.description = tool.function.description;
    return converted;
  });

  const jsonTool = createJsonOutputTool(request);
  const disableParallel = request.parallel_tool_calls === false;
  const withParallel = <T extends { type: 'auto' | 'any' | 'tool' }>(choice: T): T =>
    disableParallel ? { ...choice, disable_parallel_tool_use: true } : choice;

  if (jsonTool !== undefined) {
    const choice = request.tool_choice;
    if (tools.length === 0 || choice === 'none') {
      return { tools: [jsonTool], tool_choice: withParallel({ type: 'tool', name: jsonOutputToolName }) };
    }
    const toolChoice: AnthropicToolChoice =
      typeof choice === 'object'
        ? withParallel({ type: 'tool', name: choice.function.name })
        : withParallel({ type: 'any' });
    return { tools: [...tools, jsonTool], tool_choice: toolChoice };
  }

  if (tools.length === 0) return {};
  const choice = request.tool_choice;
  if (choice === undefined)
    return disableParallel ? { tools, tool_choice: withParallel({ type: 'auto' }) } : { tools };
  if (choice === 'none') return { tools, tool_choice: { type: 'none' } };
  if (choice === 'auto') return { tools, tool_choice: withParallel({ type: 'auto' }) };
  if (choice === 'required') return { tools, tool_choice: withParallel({ type: 'any' }) };
  return { tools, tool_choice: withParallel({ type: 'tool', name: choice.function.name }) };
}

function createJsonOutputTool(request: ChatRequest): AnthropicTool | undefined {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    return {
      name: jsonOutputToolName,
      description: 'Respond with the answer as a JSON object.',
      input_schema: { type: 'object' },
    };
  }
  const given = format.json_schema.schema ?? {};
  // A schema that leaves out the root type (`{properties: …}`) describes an object too.
  const schema = given.type === undefined ? { ...given, type: 'object' } : given;
  if (schema.type !== 'object') {
    throw new InvalidRequestError({
      message:
        'response_format.json_schema.schema: anthropic needs an object schema at the root ({"type":"object",…})',
      param: 'response_format.json_schema.schema',
    });
  }
  return {
    name: jsonOutputToolName,
    description:
      format.json_schema.description ??
      `Respond with the answer as JSON matching the ${format.json_schema.name} schema.`,
    input_schema: schema,
  };
}
