import { InvalidRequestError } from '../../core/index.ts';
import type { ChatRequest } from '../../spec/index.ts';
import type { Deployment, HttpRequestSpec } from '../types.ts';
import { convertToGeminiContents } from './convert-to-gemini-contents.ts';
import { convertToGeminiSchema } from './convert-to-gemini-schema.ts';
import { convertToGeminiTools } from './convert-to-gemini-tools.ts';
import {
  createGeminiHeaders,
  toGeminiModelPath,
  type GeminiGenerationConfig,
  type GeminiRequestBody,
} from './gemini-wire.ts';

/**
 * Builds `POST {baseUrl}/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`)
 * from a canonical chat request, authenticated with `x-goog-api-key`. Sampling options go to
 * `generationConfig`; `n` becomes `candidateCount`; a JSON `response_format` sets
 * `responseMimeType: application/json` and, for `json_schema`, a `responseSchema` in the
 * subset Gemini accepts, keeping the declared property order.
 *
 * @example
 * buildGeminiChatRequest({ model: 'flash', messages: [{ role: 'user', content: 'Hi' }] },
 *   { id: 'g', provider: 'gemini', model: 'gemini-2.5-flash', baseUrl: 'https://generativelanguage.googleapis.com/v1beta', apiKey: 'AIza…' },
 *   { stream: true }).url;
 * // 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
 */
export function buildGeminiChatRequest(
  request: ChatRequest,
  deployment: Deployment,
  options: { stream: boolean },
): HttpRequestSpec {
  if (request.logprobs === true) {
    throw new InvalidRequestError({
      message: 'logprobs: the gemini adapter does not return log probabilities',
      param: 'logprobs',
    });
  }
  const prompt = convertToGeminiContents(request.messages, deployment.model);
  const body: GeminiRequestBody = { contents: prompt.contents };
  if (prompt.systemInstruction !== undefined) body.systemInstruction = prompt.systemInstruction;
  const toolSettings = convertToGeminiTools(request);
  if (toolSettings.tools !== undefined) body.tools = toolSettings.tools;
  if (toolSettings.toolConfig !== undefined) body.toolConfig = toolSettings.toolConfig;
  const generationConfig = createGenerationConfig(request);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;

  const method = options.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    method: 'POST',
    url: `${deployment.baseUrl}/${toGeminiModelPath(deployment.model)}:${method}`,
    headers: createGeminiHeaders(deployment.apiKey, deployment.headers),
    body,
  };
}

function createGenerationConfig(request: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  if (request.temperature !== undefined && request.temperature !== null)
    config.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) config.topP = request.top_p;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) config.maxOutputTokens = maxTokens;
  if (request.stop !== undefined && request.stop !== null) {
    const stops = (typeof request.stop === 'string' ? [request.stop] : request.stop).filter(
      (stop) => stop !== '',
    );
    if (stops.length > 0) config.stopSequences = stops;
  }
  if (request.seed !== undefined && request.seed !== null) config.seed = request.seed;
  if (request.n !== undefined && request.n !== null && request.n > 1) config.candidateCount = request.n;
  if (request.presence_penalty !== undefined && request.presence_penalty !== null)
    config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty !== undefined && request.frequency_penalty !== null)
    config.frequencyPenalty = request.frequency_penalty;
  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (format.json_schema.schema !== undefined)
      config.responseSchema = convertToGeminiSchema(format.json_schema.schema, { keepPropertyOrder: true });
  }
  return config;
}
