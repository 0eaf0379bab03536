import { ProviderError } from '../../core/index.ts';
import type { ChatChunk, ChunkChoice, FinishReason } from '../../spec/index.ts';
import type { SseEvent, StreamTransformer, TransformContext } from '../types.ts';
import { createMalformedResponseError, isRecord, parseJsonBody } from '../shared/index.ts';
import { anthropicProvider, jsonOutputToolName } from './anthropic-wire.ts';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.ts';
import { mapAnthropicUsage } from './map-anthropic-usage.ts';
import { classifyAnthropicError, readAnthropicErrorInfo } from './parse-anthropic-error.ts';

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
  let stopReason: unknown;
  const blocks = new Map<number, BlockState>();
  // Anthropic's usage buckets as last reported: message_start has the input side, message_delta
  // the cumulative output (and, on newer versions, the input side again).
  const usage: Record<string, unknown> = {};

  const chunk = (delta: ChunkChoice['delta'], finishReason: FinishReason | null = null): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: context.created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });

  const mergeUsage = (value: unknown): void => {
    if (!isRecord(value)) return;
    for (const key of [
      'input_tokens',
      'output_tokens',
      'cache_read_input_tokens',
      'cache_creation_input_tokens',
    ]) {
      if (typeof value[key] === 'number') usage[key] = value[key];
    }
  };

  const readBlockIndex = (data: Record<string, unknown>): number => {
    if (typeof data.index !== 'number' || !Number.isInteger(data.index)) {
      throw createMalformedResponseError(source, `${String(data.type)} event without a numeric index`);
    }
    return data.index;
  };

  const startBlock = (data: Record<string, unknown>): ChatChunk[] => {
    const index = readBlockIndex(data);
    const block = isRecord(data.content_block) ? data.content_block : {};
    if (block.type === 'text') {
      blocks.set(index, { kind: 'text' });
      return typeof block.text === 'string' && block.text !== '' ? [chunk({ content: block.text })] : [];
    }
    if (block.type !== 'tool_use') {
      blocks.set(index, { kind: 'ignored' });
      return [];
    }
    if (typeof block.id !== 'string' || typeof block.name !== 'string') {
      throw createMalformedResponseError(
        source,
        `content_block_start[${index}]: a tool_use block needs an id and a name`,
      );
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

  const applyDelta = (data: Record<string, unknown>): ChatChunk[] => {
    const index = readBlockIndex(data);
    const delta = isRecord(data.delta) ? data.delta : {};
    const block = blocks.get(index);
    if (delta.type === 'text_delta') {
      return typeof delta.text === 'string' && delta.text !== '' ? [chunk({ content: delta.text })] : [];
    }
    if (delta.type === 'input_json_delta') {
      if (typeof delta.partial_json !== 'string' || delta.partial_json === '') return [];
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
      const data = parseJsonBody(event.data, source);
      if (!isRecord(data)) throw createMalformedResponseError(source, 'expected a JSON object');
      const type = typeof data.type === 'string' ? data.type : (event.event ?? '');
      switch (type) {
        case 'message_start': {
          const message = isRecord(data.message) ? data.message : {};
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
          if (isRecord(data.delta) && data.delta.stop_reason !== undefined && data.delta.stop_reason !== null)
            stopReason = data.delta.stop_reason;
          mergeUsage(data.usage);
          return [];
        case 'message_stop':
          return stop();
        case 'error': {
          const info = readAnthropicErrorInfo(data);
          throw new ProviderError({
            kind: classifyAnthropicError(info, undefined),
            message: `anthropic stream error${info.type === undefined ? '' : ` ${info.type}`}: ${info.message ?? 'no message'}`,
            provider: anthropicProvider,
            deployment: context.deployment.id,
            ...(info.type === undefined ? {} : { providerCode: info.type }),
            ...(info.requestId === undefined ? {} : { requestId: info.requestId }),
          });
        }
        default:
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
