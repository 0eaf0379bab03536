import type { SimChoice, SimCompletion, SimToolCall } from './sim-prompt.ts';
import { splitIntoFragments, splitIntoPieces, type SseFrame } from './sse-frame.ts';

/** Identity of one response, shared by its body or all its chunks. */
export interface ChatRenderContext {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

export const simFingerprint = 'pipewright-sim';

/** A `chat.completion` body. */
export function renderOpenAIChatResponse(
  completion: SimCompletion,
  context: ChatRenderContext,
): Record<string, unknown> {
  return {
    id: context.id,
    object: 'chat.completion',
    created: context.created,
    model: context.model,
    choices: completion.choices.map((choice, index) => ({
      index,
      message: {
        role: 'assistant',
        content: choice.toolCalls.length > 0 ? null : choice.text,
        refusal: null,
        annotations: [],
        ...(choice.toolCalls.length > 0
          ? { tool_calls: choice.toolCalls.map((call) => renderToolCall(call)) }
          : {}),
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: renderUsage(completion),
    service_tier: 'default',
    system_fingerprint: simFingerprint,
  };
}

/**
 * The `chat.completion.chunk` events of a stream: a role chunk, content (or tool-call argument)
 * chunks, a chunk with the finish reason, then, when `include_usage` was asked, a usage-only
 * chunk with `choices: []`, and `[DONE]`. Alternative choices (`n`) interleave.
 */
export function renderOpenAIChatFrames(
  completion: SimCompletion,
  context: ChatRenderContext,
  includeUsage: boolean,
): SseFrame[] {
  // Every chunk shares its envelope: serialise it once, and only each choice per chunk.
  const head = JSON.stringify({
    id: context.id,
    object: 'chat.completion.chunk',
    created: context.created,
    model: context.model,
    service_tier: 'default',
    system_fingerprint: simFingerprint,
  }).slice(0, -1);
  const tail = includeUsage ? ',"usage":null}' : '}';
  const frame = (choice: Record<string, unknown> | undefined, content: boolean): SseFrame => ({
    data:
      choice === undefined
        ? `${head},"choices":[],"usage":${JSON.stringify(renderUsage(completion))}}`
        : `${head},"choices":[${JSON.stringify(choice)}]${tail}`,
    content,
  });
  const perChoice = completion.choices.map((choice, index) => choiceFrames(choice, index, frame));
  const frames: SseFrame[] = [];
  for (const list of perChoice) frames.push(...list.splice(0, 1)); // role chunks first
  while (perChoice.some((list) => list.length > 0)) {
    for (const list of perChoice) {
      const next = list.shift();
      if (next !== undefined) frames.push(next);
    }
  }
  if (includeUsage) frames.push(frame(undefined, false));
  frames.push({ data: '[DONE]', content: false });
  return frames;
}

function choiceFrames(
  choice: SimChoice,
  index: number,
  frame: (choice: Record<string, unknown>, content: boolean) => SseFrame,
): SseFrame[] {
  const delta = (value: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    index,
    delta: value,
    logprobs: null,
    finish_reason: finish,
  });
  const frames = [
    frame(
      delta({ role: 'assistant', content: choice.toolCalls.length > 0 ? null : '', refusal: null }),
      false,
    ),
  ];
  if (choice.toolCalls.length > 0) {
    choice.toolCalls.forEach((call, callIndex) => {
      frames.push(
        frame(
          delta({
            tool_calls: [
              {
                index: callIndex,
                id: toolCallId(call),
                type: 'function',
                function: { name: call.name, arguments: '' },
              },
            ],
          }),
          true,
        ),
      );
      for (const fragment of splitIntoFragments(JSON.stringify(call.arguments))) {
        frames.push(
          frame(delta({ tool_calls: [{ index: callIndex, function: { arguments: fragment } }] }), true),
        );
      }
    });
  } else {
    for (const piece of splitIntoPieces(choice.text)) frames.push(frame(delta({ content: piece }), true));
  }
  frames.push(frame(delta({}, choice.finishReason), true));
  return frames;
}

function renderToolCall(call: SimToolCall): Record<string, unknown> {
  return {
    id: toolCallId(call),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  };
}

function toolCallId(call: SimToolCall): string {
  return `call_${call.key.slice(0, 24)}`;
}

function renderUsage(completion: SimCompletion): Record<string, unknown> {
  return {
    prompt_tokens: completion.inputTokens,
    completion_tokens: completion.outputTokens,
    total_tokens: completion.inputTokens + completion.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
