import { ProviderError } from '../../core/index.ts';
import type { ChatChunk, ChunkChoice } from '../../spec/index.ts';
import { createMalformedResponseError, isRecord, previewText } from '../shared/index.ts';
import type { SseEvent, StreamTransformer, TransformContext } from '../types.ts';
import { convertOpenAIUsage } from './convert-openai-usage.ts';
import { mapOpenAIStreamError } from './map-openai-error.ts';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.ts';

export interface OpenAIStreamTransformerOptions {
  provider: string;
  /**
   * OpenAI and Azure always end with `data: [DONE]`; a stream without it was cut. Lenient
   * servers (some OpenAI-compatible ones) may stop after the finish reason instead.
   */
  requireDoneMarker: boolean;
}

/**
 * `chat.completion.chunk` events → canonical chunks. The wire shape is the canonical shape, so
 * chunks are only patched where servers differ: missing `id`/`created`/`model`, `choices: null`
 * on the usage chunk (vLLM), tool-call deltas without `index`, usage under `x_groq`. Error
 * objects inside the stream throw a mapped ProviderError; `[DONE]` ends it.
 *
 * @example
 * const transformer = createOpenAIStreamTransformer(context, { provider: 'openai', requireDoneMarker: true });
 * transformer.push({ data: '{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}' });
 * transformer.push({ data: '[DONE]' });
 * transformer.finish(); // [] (no stream_cut)
 */
export function createOpenAIStreamTransformer(
  context: TransformContext,
  options: OpenAIStreamTransformerOptions,
): StreamTransformer {
  const { provider } = options;
  const deployment = context.deployment;
  let done = false;
  let sawFinishReason = false;

  function malformed(detail: string, cause?: unknown): ProviderError {
    return createMalformedResponseError(
      { provider, deployment: deployment.id, upstreamStatus: 200, what: 'stream chunk' },
      detail,
      cause,
    );
  }

  return {
    get done() {
      return done;
    },

    push(event: SseEvent): ChatChunk[] {
      const data = event.data;
      if (done || data === '') return [];
      // '[' is 91: only then compare, the common case is a JSON object.
      if (data.charCodeAt(0) === 91 && data.trim() === '[DONE]') {
        done = true;
        return [];
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch (error) {
        throw malformed(`stream chunk is not valid JSON: ${previewText(data)}`, error);
      }
      if (!isRecord(json)) throw malformed(`stream chunk is not an object: ${previewText(data)}`);
      if (
        event.event === 'error' ||
        (json['error'] !== undefined && json['error'] !== null && json['choices'] === undefined)
      ) {
        throw mapOpenAIStreamError(json, deployment, provider);
      }
      const rawChoices = json['choices'];
      if (rawChoices !== undefined && rawChoices !== null && !Array.isArray(rawChoices))
        throw malformed('choices: expected an array');
      const choices =
        rawChoices === undefined || rawChoices === null
          ? []
          : normalizeChoices(rawChoices as unknown[], malformed);
      for (const choice of choices) if (choice.finish_reason !== null) sawFinishReason = true;
      const usage = convertOpenAIUsage(json['usage']) ?? readGroqUsage(json['x_groq']);
      // Keep-alive or annotation-only chunks (Azure's prompt_filter_results) carry nothing canonical.
      if (choices.length === 0 && usage === undefined) return [];
      const chunk: ChatChunk = {
        id: typeof json['id'] === 'string' && json['id'] !== '' ? json['id'] : context.fallbackId,
        object: 'chat.completion.chunk',
        created: typeof json['created'] === 'number' ? json['created'] : context.created,
        model: typeof json['model'] === 'string' && json['model'] !== '' ? json['model'] : deployment.model,
        choices,
      };
      if (usage !== undefined) chunk.usage = usage;
      if (typeof json['system_fingerprint'] === 'string')
        chunk.system_fingerprint = json['system_fingerprint'];
      return [chunk];
    },

    finish(): ChatChunk[] {
      if (done) return [];
      if (!options.requireDoneMarker && sawFinishReason) {
        done = true;
        return [];
      }
      throw new ProviderError({
        kind: 'stream_cut',
        message: `${provider} stream ended before its terminator${sawFinishReason ? ' ([DONE] missing)' : ''}`,
        provider,
        deployment: deployment.id,
        upstreamStatus: 200,
      });
    },
  };
}

function normalizeChoices(raw: unknown[], malformed: (detail: string) => ProviderError): ChunkChoice[] {
  const out: ChunkChoice[] = [];
  for (let position = 0; position < raw.length; position++) {
    const wire = raw[position];
    if (!isRecord(wire)) throw malformed(`choices[${position}]: expected an object`);
    const rawDelta = wire['delta'] ?? wire['message'];
    const delta: ChunkChoice['delta'] = isRecord(rawDelta) ? (rawDelta as ChunkChoice['delta']) : {};
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) {
      if (!Array.isArray(delta.tool_calls))
        throw malformed(`choices[${position}].delta.tool_calls: expected an array`);
      delta.tool_calls.forEach((call, index) => {
        if (!isRecord(call))
          throw malformed(`choices[${position}].delta.tool_calls[${index}]: expected an object`);
        if (typeof call.index !== 'number') call.index = index;
        const fn = call.function;
        // Some servers send complete arguments as an object in one delta.
        if (fn !== undefined && fn.arguments !== undefined && typeof fn.arguments !== 'string')
          fn.arguments = JSON.stringify(fn.arguments);
      });
    }
    const choice: ChunkChoice = {
      index: typeof wire['index'] === 'number' ? wire['index'] : position,
      delta,
      finish_reason: mapOpenAIFinishReason(
        typeof wire['finish_reason'] === 'string' ? wire['finish_reason'] : null,
      ),
    };
    if (wire['logprobs'] !== undefined && wire['logprobs'] !== null) choice.logprobs = wire['logprobs'];
    out.push(choice);
  }
  return out;
}

function readGroqUsage(value: unknown) {
  return isRecord(value) ? convertOpenAIUsage(value['usage']) : undefined;
}
