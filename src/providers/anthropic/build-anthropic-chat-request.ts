import { InvalidRequestError } from '../../core/index.ts';
import type { ChatRequest } from '../../spec/index.ts';
import type { Deployment, HttpRequestSpec } from '../types.ts';
import {
  defaultAnthropicMaxTokens,
  defaultAnthropicVersion,
  type AnthropicRequestBody,
} from './anthropic-wire.ts';
import { readAnthropicOptions } from './anthropic-options.ts';
import { convertToAnthropicMessages } from './convert-to-anthropic-messages.ts';
import { convertToAnthropicTools } from './convert-to-anthropic-tools.ts';

/**
 * Builds `POST {baseUrl}/messages` from a canonical chat request. Options Anthropic has no
 * equivalent for (seed, penalties) are left out; ones whose silent loss would change the
 * answer's shape (`n > 1`, `logprobs`) are refused with an error naming the field.
 *
 * @example
 * const spec = buildAnthropicChatRequest(
 *   { model: 'claude', messages: [{ role: 'user', content: 'Hi' }] },
 *   { id: 'claude-eu', provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: 'https://api.anthropic.com/v1', apiKey: 'sk-ant-…' },
 *   { stream: false },
 * );
 * // spec.url === 'https://api.anthropic.com/v1/messages', spec.body.max_tokens === 4096
 */
export function buildAnthropicChatRequest(
  request: ChatRequest,
  deployment: Deployment,
  options: { stream: boolean },
): HttpRequestSpec {
  if (request.n !== undefined && request.n !== null && request.n > 1) {
    throw new InvalidRequestError({
      message: 'n: anthropic returns one choice per request; n must be 1',
      param: 'n',
    });
  }
  if (request.logprobs === true) {
    throw new InvalidRequestError({
      message: 'logprobs: anthropic does not return log probabilities',
      param: 'logprobs',
    });
  }

  const settings = readAnthropicOptions(deployment);
  const prompt = convertToAnthropicMessages(request.messages);
  const body: AnthropicRequestBody = {
    model: deployment.model,
    max_tokens:
      request.max_completion_tokens ??
      request.max_tokens ??
      settings.defaultMaxTokens ??
      defaultAnthropicMaxTokens,
    messages: prompt.messages,
  };
  if (prompt.system !== undefined) body.system = prompt.system;
  // OpenAI's temperature goes to 2, Anthropic's to 1: above 1 is clamped to the closest allowed value.
  if (request.temperature !== undefined && request.temperature !== null)
    body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (request.top_p !== undefined && request.top_p !== null) body.top_p = request.top_p;
  if (request.stop !== undefined && request.stop !== null) {
    const stops = (typeof request.stop === 'string' ? [request.stop] : request.stop).filter(
      (stop) => stop !== '',
    );
    if (stops.length > 0) body.stop_sequences = stops;
  }
  if (request.user !== undefined && request.user !== '') body.metadata = { user_id: request.user };
  const toolConfig = convertToAnthropicTools(request);
  if (toolConfig.tools !== undefined) body.tools = toolConfig.tools;
  if (toolConfig.tool_choice !== undefined) body.tool_choice = toolConfig.tool_choice;
  if (options.stream) body.stream = true;

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': settings.version ?? defaultAnthropicVersion,
  };
  if (settings.beta !== undefined)
    headers['anthropic-beta'] = typeof settings.beta === 'string' ? settings.beta : settings.beta.join(',');
  if (options.stream) headers.accept = 'text/event-stream';
  if (deployment.apiKey !== undefined) headers['x-api-key'] = deployment.apiKey;
  return {
    method: 'POST',
    url: `${deployment.baseUrl}/messages`,
    headers: { ...headers, ...deployment.headers },
    body,
  };
}
