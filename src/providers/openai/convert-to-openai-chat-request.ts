import type { ChatRequest } from '../../spec/index.ts';
import type { Deployment } from '../types.ts';

export interface ConvertToOpenAIChatRequestOptions {
  stream: boolean;
  /** Ask for the final usage chunk (`stream_options.include_usage`); some servers reject the field. */
  includeStreamUsage: boolean;
  /** OpenAI reasoning models (o1, o3, o4, gpt-5) reject `max_tokens`; send `max_completion_tokens`. */
  renameMaxTokensForReasoningModels: boolean;
}

const reasoningModelPattern = /^(o\d|gpt-5)/i;

/**
 * The canonical request is OpenAI's shape already: it passes through with the upstream model
 * name substituted, `stream` set, and usage requested on streams (the gateway bills from it).
 *
 * @example
 * convertToOpenAIChatRequest(request, deployment, { stream: true, includeStreamUsage: true, renameMaxTokensForReasoningModels: true });
 * // → { ...request, model: deployment.model, stream: true, stream_options: { include_usage: true } }
 */
export function convertToOpenAIChatRequest(
  request: ChatRequest,
  deployment: Deployment,
  options: ConvertToOpenAIChatRequestOptions,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, model: deployment.model };
  if (options.stream) {
    body['stream'] = true;
    if (options.includeStreamUsage)
      body['stream_options'] = { ...request.stream_options, include_usage: true };
    else if (request.stream_options === undefined || request.stream_options === null)
      delete body['stream_options'];
  } else {
    // OpenAI rejects stream_options without stream: true.
    delete body['stream'];
    delete body['stream_options'];
  }
  if (options.renameMaxTokensForReasoningModels && reasoningModelPattern.test(deployment.model)) {
    const maxTokens = request.max_tokens;
    delete body['max_tokens'];
    if (
      maxTokens !== undefined &&
      maxTokens !== null &&
      (request.max_completion_tokens === undefined || request.max_completion_tokens === null)
    ) {
      body['max_completion_tokens'] = maxTokens;
    }
  }
  return body;
}
