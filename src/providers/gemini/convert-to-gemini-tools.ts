import type { ChatRequest } from '../../spec/index.ts';
import { convertToGeminiSchema } from './convert-to-gemini-schema.ts';
import type { GeminiFunctionDeclaration, GeminiToolConfig } from './gemini-wire.ts';

export interface GeminiToolSettings {
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: GeminiToolConfig;
}

/**
 * Converts tools to one Gemini tool of `functionDeclarations` (parameters reduced to the schema
 * subset Gemini accepts) and `tool_choice` to `toolConfig.functionCallingConfig`: `auto` →
 * AUTO, `required` → ANY, `none` → NONE, a named function → ANY restricted to that name.
 * `parallel_tool_calls` has no Gemini equivalent and is not sent.
 *
 * @example
 * convertToGeminiTools({ model: 'm', messages: [], tool_choice: 'required', tools: [
 *   { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
 * ] });
 * // { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }],
 * //   toolConfig: { functionCallingConfig: { mode: 'ANY' } } }
 */
export function convertToGeminiTools(request: ChatRequest): GeminiToolSettings {
  const tools = request.tools ?? [];
  if (tools.length === 0) return {};
  const declarations = tools.map((tool): GeminiFunctionDeclaration => {
    const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
    if (tool.function.description !== undefined) declaration.description = tool.function.description;
    const parameters =
      tool.function.parameters === undefined ? undefined : convertToGeminiSchema(tool.function.parameters);
    // A function without arguments must leave parameters out: Gemini rejects an object with no properties.
    if (parameters !== undefined && !(parameters.type === 'object' && parameters.properties === undefined))
      declaration.parameters = parameters;
    return declaration;
  });
  const settings: GeminiToolSettings = { tools: [{ functionDeclarations: declarations }] };
  const choice = request.tool_choice;
  if (choice === 'auto') settings.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  else if (choice === 'required') settings.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
  else if (choice === 'none') settings.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
  else if (choice !== undefined)
    settings.toolConfig = {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] },
    };
  return settings;
}
