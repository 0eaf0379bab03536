import type { SimChoice, SimCompletion } from './sim-prompt.ts';
import { splitIntoPieces, type SseFrame } from './sse-frame.ts';
import type { ChatRenderContext } from './render-openai-chat.ts';

const blockedRatings = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
];

/** A `GenerateContentResponse` body. */
export function renderGeminiResponse(
  completion: SimCompletion,
  context: ChatRenderContext,
): Record<string, unknown> {
  return envelope(
    completion.choices.map((choice, index) => candidate(choice, index, choice.text, true)),
    completion.inputTokens,
    completion.outputTokens,
    context,
  );
}

/** The answer to a prompt blocked by the safety filter: 200, no candidates, `promptFeedback`. */
export function renderGeminiBlockedPrompt(
  inputTokens: number,
  context: ChatRenderContext,
): Record<string, unknown> {
  return {
    promptFeedback: { blockReason: 'SAFETY', safetyRatings: blockedRatings },
    usageMetadata: {
      promptTokenCount: inputTokens,
      totalTokenCount: inputTokens,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: inputTokens }],
    },
    modelVersion: context.model,
    responseId: context.id,
  };
}

/**
 * `streamGenerateContent?alt=sse` events: each carries a few words of every candidate with the
 * usage so far; the last one carries `finishReason`. Function calls arrive whole, in one event.
 */
export function renderGeminiFrames(completion: SimCompletion, context: ChatRenderContext): SseFrame[] {
  const pieces = completion.choices.map((choice) =>
    choice.toolCalls.length > 0 || choice.finishReason === 'content_filter'
      ? ['']
      : splitIntoPieces(choice.text, 4),
  );
  const steps = Math.max(1, ...pieces.map((list) => list.length));
  const frames: SseFrame[] = [];
  let produced = 0;
  for (let step = 0; step < steps; step++) {
    const last = step === steps - 1;
    const candidates: Array<Record<string, unknown>> = [];
    completion.choices.forEach((choice, index) => {
      const piece = pieces[index]?.[step];
      if (piece === undefined && !last) return;
      candidates.push(candidate(choice, index, piece ?? '', last));
    });
    produced = last
      ? completion.outputTokens
      : Math.min(completion.outputTokens, produced + 4 * completion.choices.length);
    frames.push({
      data: JSON.stringify(envelope(candidates, completion.inputTokens, produced, context)),
      content: true,
    });
  }
  return frames;
}

function candidate(choice: SimChoice, index: number, text: string, final: boolean): Record<string, unknown> {
  if (choice.finishReason === 'content_filter') {
    return final ? { finishReason: 'SAFETY', index, safetyRatings: blockedRatings } : { index };
  }
  const parts =
    choice.toolCalls.length > 0
      ? choice.toolCalls.map((call) => ({ functionCall: { name: call.name, args: call.arguments } }))
      : [{ text }];
  const out: Record<string, unknown> = { content: { parts, role: 'model' } };
  if (final) out['finishReason'] = choice.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
  out['index'] = index;
  return out;
}

function envelope(
  candidates: Array<Record<string, unknown>>,
  input: number,
  output: number,
  context: ChatRenderContext,
): Record<string, unknown> {
  return {
    candidates,
    usageMetadata: {
      promptTokenCount: input,
      candidatesTokenCount: output,
      totalTokenCount: input + output,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
    },
    modelVersion: context.model,
    responseId: context.id,
  };
}
