import { ProviderError } from '../../core/index.ts';
import type { ChatChunk, ChunkChoice, FinishReason } from '../../spec/index.ts';
import type { SseEvent, StreamTransformer, TransformContext } from '../types.ts';
import { isRecord, parseJsonBody, parseWirePayload } from '../shared/index.ts';
import {
  anthropicStreamEventSchema,
  type AnthropicStreamEvent,
  type AnthropicUsage,
} from './anthropic-api-schemas.ts';
import { anthropicProvider, jsonOutputToolName } from './anthropic-wire.ts';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.ts';
import { mapAnthropicUsage } from './map-anthropic-usage.ts';
import { createAnthropicError, readAnthropicErrorInfo } from './parse-anthropic-error.ts';

type EventOf<Type extends AnthropicStreamEvent['type']> = Extract<AnthropicStreamEvent, { type: Type }>;

/** What a content block index stands for, so its deltas go to the right place. */
type BlockState =
  { kind: 'text' } | { kind: 'tool'; toolIndex: number } | { kind: 'json' } | { kind: 'ignored' };

/**
 * Turns Anthropic's SSE events into `chat.completion.chunk`s:
 * `message_start` → a role chunk (id, model and input usage kept; no content, so a
 * tool-call-only answer reassembles to `content: null`); `content_block_start` of a
 * `tool_use` → the first tool-call fragment (id, name, its own `index` counted among tool calls
 * only); `text_delta` → content; `input_json_delta` → argument fragments (or content, for the
 * `json_output` tool of the JSON-format strategy); `message_delta` → stop reason and
 * cumulative output usage; `message_stop` → a final chunk with `finish_reason`, then a usage
 * chunk (empty `choices`). Thinking, signature and citation deltas, `ping` and unknown events
 * are skipped; an `error` event throws the mapped ProviderError (e.g. `overloaded_error` →
 * `overloaded`). `finish()` throws `stream_cut` when `message_stop` never came.
 *
 * @example
 * const transformer = createAnthropicStreamTransformer(context);
 * transformer.push({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":5}}}' });
 * // [{ id: 'msg_1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }], … }]
 */
export function createAnthropicStreamTransformer(context: TransformContext): StreamTransformer {
  const source = { provider: anthropicProvider, deployment: context.deployment.id, what: 'stream chunk' };
  let id = context.fallbackId;
  let model = context.deployment.model;
  let done = false;
  let toolCount = 0;
  let stopReason: string | null | undefined;
  const blocks = new Map<number, BlockState>();
  // Anthropic's usage buckets as last reported: message_start has the input side, message_delta
  // the cumulative output (and, on newer versions, the input side again).
  const usage: AnthropicUsage = {};

  const chunk = (delta: ChunkChoice['delta'], finishReason: FinishReason | null = null): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: context.created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });

  const mergeUsage = (value: AnthropicUsage | null | undefined): void => {
    if (value === null || value === undefined) return;
    if (typeof value.input_tokens === 'number') usage.input_tokens = value.input_tokens;
    if (typeof value.output_tokens === 'number') usage.output_tokens = value.output_tokens;
    if (typeof value.cache_read_input_tokens === 'number')
      usage.cache_read_input_tokens = value.cache_read_input_tokens;
    if (typeof value.cache_creation_input_tokens === 'number')
      usage.cache_creation_input_tokens = value.cache_creation_input_tokens;
  };

  const startBlock = (data: EventOf<'content_block_start'>): ChatChunk[] => {
    const { index } = data;
    const block = data.content_block;
    if (block.type === 'text') {
      blocks.set(index, { kind: 'text' });
      return block.text !== '' ? [chunk({ content: block.text })] : [];
    }
    if (block.type !== 'tool_use') {
      blocks.set(index, { kind: 'ignored' });
      return [];
    }
    // Streamed tool input normally starts as {} and arrives in input_json_delta fragments.
    const initial =
      isRecord(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
    if (block.name === jsonOutputToolName) {
      blocks.set(index, { kind: 'json' });
      return initial === '' ? [] : [chunk({ content: initial })];
    }
    const toolIndex = toolCount;
    toolCount += 1;
    blocks.set(index, { kind: 'tool', toolIndex });
    return [
      chunk({
        tool_calls: [
          {
            index: toolIndex,
            id: block.id,
            type: 'function',
            function: { name: block.name, arguments: initial },
          },
        ],
      }),
    ];
  };

  const applyDelta = (data: EventOf<'content_block_delta'>): ChatChunk[] => {
    const { delta } = data;
    const block = blocks.get(data.index);
    if (delta.type === 'text_delta') return delta.text !== '' ? [chunk({ content: delta.text })] : [];
    if (delta.type === 'input_json_delta') {
      if (delta.partial_json === '') return [];
      if (block?.kind === 'json') return [chunk({ content: delta.partial_json })];
      if (block?.kind === 'tool')
        return [
          chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }] }),
        ];
      // Input of a server tool (web search, code execution): run by Anthropic, not by the caller.
      return [];
    }
    // thinking_delta, signature_delta, citations_delta and future delta types carry nothing
    // the OpenAI chunk shape has a place for.
    return [];
  };

  const stop = (): ChatChunk[] => {
    done = true;
    let finishReason = mapAnthropicStopReason(stopReason);
    if (finishReason === 'tool_calls' && toolCount === 0) finishReason = 'stop';
    const usageChunk: ChatChunk = {
      id,
      object: 'chat.completion.chunk',
      created: context.created,
      model,
      choices: [],
      usage: mapAnthropicUsage(usage),
    };
    return [chunk({}, finishReason), usageChunk];
  };

  return {
    get done() {
      return done;
    },
    push(event: SseEvent): ChatChunk[] {
      if (done) return [];
      const raw = parseJsonBody(event.data, source);
      // The event name stands in for a `type` the data left out.
      const tagged =
        isRecord(raw) && typeof raw.type !== 'string' && event.event !== undefined
          ? { ...raw, type: event.event }
          : raw;
      const data = parseWirePayload(anthropicStreamEventSchema, tagged, source);
      switch (data.type) {
        case 'message_start': {
          const { message } = data;
          if (typeof message.id === 'string' && message.id !== '') id = message.id;
          if (typeof message.model === 'string' && message.model !== '') model = message.model;
          mergeUsage(message.usage);
          return [chunk({ role: 'assistant' })];
        }
        case 'content_block_start':
          return startBlock(data);
        case 'content_block_delta':
          return applyDelta(data);
        case 'message_delta':
          if (data.delta?.stop_reason !== undefined && data.delta.stop_reason !== null)
            stopReason = data.delta.stop_reason;
          mergeUsage(data.usage);
          return [];
        case 'message_stop':
          return stop();
        case 'error':
          throw createAnthropicError(readAnthropicErrorInfo(data), { deployment: context.deployment.id });
        case 'other':
          // content_block_stop, ping and event types added after this adapter was written.
          return [];
      }
    },
    finish(): ChatChunk[] {
      if (done) return [];
      throw new ProviderError({
        kind: 'stream_cut',
        message: 'anthropic stream ended before message_stop',
        provider: anthropicProvider,
        deployment: context.deployment.id,
      });
    },
  };
}
