import { ProviderError } from '../../core/index.ts';
import type { ChatChoice, ChatResponse, ToolCall } from '../../spec/index.ts';
import type { TransformContext } from '../types.ts';
import { createMalformedResponseError, isRecord, parseWirePayload } from '../shared/index.ts';
import { geminiResponseSchema, type GeminiResponse } from './gemini-api-schemas.ts';
import { geminiProvider } from './gemini-wire.ts';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.ts';
import { mapGeminiUsage } from './map-gemini-usage.ts';
import { createGeminiEmbeddedError } from './parse-gemini-error.ts';
import { readGeminiCandidate } from './read-gemini-candidate.ts';

/**
 * Converts a Gemini `GenerateContentResponse` to a canonical chat completion: one choice per
 * candidate, text parts joined into the content, `functionCall` parts as tool calls. Gemini
 * calls have no ids (before Gemini 3), so each gets `call_<n>`, numbered across the
 * response so ids are unique within it. A prompt blocked by safety checks (`promptFeedback.
 * blockReason`, no candidates) throws a `content_filtered` ProviderError: nothing was generated.
 *
 * @example
 * parseGeminiResponse({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP', index: 0 }],
 *   usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 }, modelVersion: 'gemini-2.5-flash', responseId: 'r1' }, context);
 * // { id: 'r1', model: 'gemini-2.5-flash', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], … }
 */
export function parseGeminiResponse(body: unknown, context: TransformContext): ChatResponse {
  const source = { provider: geminiProvider, deployment: context.deployment.id };
  if (isRecord(body) && body.error !== undefined)
    throw createGeminiEmbeddedError(body, context.deployment.id, 'body');
  const wire = parseWirePayload(geminiResponseSchema, body, source);
  const candidates = wire.candidates ?? [];
  if (candidates.length === 0)
    throw (
      createBlockedError(wire, context.deployment.id) ??
      createMalformedResponseError(source, 'no candidates and no block reason')
    );

  let callNumber = 0;
  const choices = candidates.map((candidate, position): ChatChoice => {
    const read = readGeminiCandidate(candidate, position);
    const toolCalls = read.functionCalls.map((call): ToolCall => {
      const id = call.id ?? `call_${callNumber}`;
      callNumber += 1;
      return { id, type: 'function', function: { name: call.name, arguments: call.arguments } };
    });
    const message: ChatChoice['message'] = {
      role: 'assistant',
      content: read.text === '' && toolCalls.length > 0 ? null : read.text,
    };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return {
      index: read.index,
      message,
      finish_reason: mapGeminiFinishReason(read.finishReason, toolCalls.length > 0),
      logprobs: null,
    };
  });

  return {
    id: nonEmpty(wire.responseId) ?? context.fallbackId,
    object: 'chat.completion',
    created: context.created,
    model: nonEmpty(wire.modelVersion) ?? context.deployment.model,
    choices,
    usage: mapGeminiUsage(wire.usageMetadata),
  };
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

/**
 * The `content_filtered` error for a response whose prompt Gemini blocked, or undefined.
 *
 * @example
 * createBlockedError({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }, 'gemini-eu')?.kind; // 'content_filtered'
 */
export function createBlockedError(body: GeminiResponse, deploymentId: string): ProviderError | undefined {
  const feedback = body.promptFeedback;
  if (feedback === undefined || feedback === null || typeof feedback.blockReason !== 'string')
    return undefined;
  return new ProviderError({
    kind: 'content_filtered',
    message: `gemini blocked the prompt: ${feedback.blockReason}${typeof feedback.blockReasonMessage === 'string' ? ` (${feedback.blockReasonMessage})` : ''}`,
    provider: geminiProvider,
    deployment: deploymentId,
    providerCode: feedback.blockReason,
  });
}
