import { countTextTokens } from './count-tokens.ts';
import type { SimChoice, SimCompletion, SimToolCall } from './sim-prompt.ts';
import { splitIntoFragments, splitIntoPieces, type SseFrame } from './sse-frame.ts';
import type { ChatRenderContext } from './render-openai-chat.ts';

type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** A Messages API `message` body (Anthropic has no `n`: the first choice is used). */
export function renderAnthropicMessage(
  completion: SimCompletion,
  context: ChatRenderContext,
): Record<string, unknown> {
  const choice = firstChoice(completion);
  return {
    id: context.id,
    type: 'message',
    role: 'assistant',
    model: context.model,
    content: contentBlocks(choice),
    stop_reason: stopReason(choice),
    stop_sequence: choice.stopSequence ?? null,
    usage: usage(completion.inputTokens, outputTokens(choice)),
  };
}

/**
 * The Messages stream: `message_start`, then per block `content_block_start`, `text_delta` or
 * `input_json_delta` fragments, `content_block_stop`; a `ping` after the first block starts and
 * every 20 deltas; `message_delta` with the stop reason and output usage; `message_stop`.
 */
export function renderAnthropicFrames(completion: SimCompletion, context: ChatRenderContext): SseFrame[] {
  const choice = firstChoice(completion);
  const frame = (event: string, payload: Record<string, unknown>, content = false): SseFrame => ({
    event,
    data: JSON.stringify({ type: event, ...payload }),
    content,
  });
  const frames: SseFrame[] = [
    frame('message_start', {
      message: {
        id: context.id,
        type: 'message',
        role: 'assistant',
        model: context.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(completion.inputTokens, 1),
      },
    }),
  ];
  let deltas = 0;
  contentBlocks(choice).forEach((block, index) => {
    if (block.type === 'text') {
      frames.push(frame('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      if (index === 0) frames.push(frame('ping', {}));
      for (const piece of splitIntoPieces(block.text)) {
        frames.push(
          frame('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }, true),
        );
        if (++deltas % 20 === 0) frames.push(frame('ping', {}));
      }
    } else {
      frames.push(
        frame('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        }),
      );
      if (index === 0) frames.push(frame('ping', {}));
      for (const fragment of ['', ...splitIntoFragments(JSON.stringify(block.input))]) {
        frames.push(
          frame(
            'content_block_delta',
            { index, delta: { type: 'input_json_delta', partial_json: fragment } },
            true,
          ),
        );
      }
    }
    frames.push(frame('content_block_stop', { index }));
  });
  frames.push(
    frame(
      'message_delta',
      {
        delta: { stop_reason: stopReason(choice), stop_sequence: choice.stopSequence ?? null },
        usage: { output_tokens: outputTokens(choice) },
      },
      true,
    ),
  );
  frames.push(frame('message_stop', {}));
  return frames;
}

function contentBlocks(choice: SimChoice): ContentBlock[] {
  if (choice.toolCalls.length === 0)
    return choice.text === '' && choice.finishReason === 'content_filter'
      ? []
      : [{ type: 'text', text: choice.text }];
  return [
    { type: 'text', text: choice.toolPreamble },
    ...choice.toolCalls.map((call) => ({
      type: 'tool_use' as const,
      id: toolUseId(call),
      name: call.name,
      input: call.arguments,
    })),
  ];
}

function stopReason(choice: SimChoice): string {
  switch (choice.finishReason) {
    case 'stop':
      return choice.stopSequence === undefined ? 'end_turn' : 'stop_sequence';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
  }
}

function outputTokens(choice: SimChoice): number {
  return choice.outputTokens + (choice.toolCalls.length > 0 ? countTextTokens(choice.toolPreamble) : 0);
}

function usage(input: number, output: number): Record<string, unknown> {
  return {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: output,
    service_tier: 'standard',
  };
}

function toolUseId(call: SimToolCall): string {
  return `toolu_01${call.key.slice(0, 22)}`;
}

function firstChoice(completion: SimCompletion): SimChoice {
  const choice = completion.choices[0];
  if (choice === undefined) throw new Error('a completion has at least one choice');
  return choice;
}
