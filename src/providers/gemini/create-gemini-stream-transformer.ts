import { ProviderError } from '../../core/index.ts';
import type { ChatChunk, ChunkChoice, FinishReason, ToolCallDelta } from '../../spec/index.ts';
import type { SseEvent, StreamTransformer, TransformContext } from '../types.ts';
import { isRecord, parseJsonBody, parseWirePayload } from '../shared/index.ts';
import { geminiResponseSchema, type GeminiUsage } from './gemini-api-schemas.ts';
import { geminiProvider } from './gemini-wire.ts';
import { mapGeminiFinishReason } from './map-gemini-finish-reason.ts';
import { mapGeminiUsage } from './map-gemini-usage.ts';
import { createGeminiEmbeddedError } from './parse-gemini-error.ts';
import { createBlockedError } from './parse-gemini-response.ts';
import { readGeminiCandidate } from './read-gemini-candidate.ts';

interface CandidateState {
  started: boolean;
  toolCount: number;
  finished: boolean;
}

/**
 * Turns Gemini's `streamGenerateContent?alt=sse` events into `chat.completion.chunk`s. Each
 * event is a whole `GenerateContentResponse`: text parts become content deltas; a
 * `functionCall` part arrives complete and becomes one tool-call delta with id, name and all
 * the arguments; a candidate's `finishReason` becomes a final chunk. Gemini sends no
 * terminator event: the stream is complete once every candidate seen has a finish reason, and
 * then the last `usageMetadata` is emitted as a usage chunk (empty `choices`). `finish()`
 * throws `stream_cut` when the body ended before that.
 *
 * @example
 * const transformer = createGeminiStreamTransformer(context);
 * transformer.push({ data: '{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}' });
 * // [role+content chunk 'Hi', finish chunk (stop), usage chunk]; transformer.done === true
 */
export function createGeminiStreamTransformer(context: TransformContext): StreamTransformer {
  const source = { provider: geminiProvider, deployment: context.deployment.id, what: 'stream chunk' };
  const candidates = new Map<number, CandidateState>();
  let id = context.fallbackId;
  let model = context.deployment.model;
  let usageMetadata: GeminiUsage | null | undefined;
  let callNumber = 0;
  let done = false;

  const chunk = (
    index: number,
    delta: ChunkChoice['delta'],
    finishReason: FinishReason | null = null,
  ): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: context.created,
    model,
    choices: [{ index, delta, finish_reason: finishReason }],
  });

  return {
    get done() {
      return done;
    },
    push(event: SseEvent): ChatChunk[] {
      if (done) return [];
      const raw = parseJsonBody(event.data, source);
      if (isRecord(raw) && raw.error !== undefined)
        throw createGeminiEmbeddedError(raw, context.deployment.id);
      const data = parseWirePayload(geminiResponseSchema, raw, source);
      if (typeof data.responseId === 'string' && data.responseId !== '') id = data.responseId;
      if (typeof data.modelVersion === 'string' && data.modelVersion !== '') model = data.modelVersion;
      if (data.usageMetadata !== undefined && data.usageMetadata !== null) usageMetadata = data.usageMetadata;

      const list = data.candidates ?? [];
      if (list.length === 0) {
        const blocked = createBlockedError(data, context.deployment.id);
        if (blocked !== undefined) throw blocked;
        // A chunk with only usage or metadata.
        return [];
      }

      const out: ChatChunk[] = [];
      list.forEach((candidate, position) => {
        const read = readGeminiCandidate(candidate, position);
        let state = candidates.get(read.index);
        if (state === undefined) {
          state = { started: false, toolCount: 0, finished: false };
          candidates.set(read.index, state);
        }
        if (state.finished) return;
        const delta: ChunkChoice['delta'] = {};
        if (read.text !== '') delta.content = read.text;
        if (read.functionCalls.length > 0) {
          const current = state;
          delta.tool_calls = read.functionCalls.map((call): ToolCallDelta => {
            const callId = call.id ?? `call_${callNumber}`;
            callNumber += 1;
            const toolDelta: ToolCallDelta = {
              index: current.toolCount,
              id: callId,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            };
            current.toolCount += 1;
            return toolDelta;
          });
        }
        if (!state.started) {
          state.started = true;
          out.push(chunk(read.index, { role: 'assistant', ...delta }));
        } else if (delta.content !== undefined || delta.tool_calls !== undefined) {
          out.push(chunk(read.index, delta));
        }
        if (read.finishReason !== undefined) {
          state.finished = true;
          out.push(chunk(read.index, {}, mapGeminiFinishReason(read.finishReason, state.toolCount > 0)));
        }
      });

      if ([...candidates.values()].every((state) => state.finished)) {
        done = true;
        out.push({
          id,
          object: 'chat.completion.chunk',
          created: context.created,
          model,
          choices: [],
          usage: mapGeminiUsage(usageMetadata),
        });
      }
      return out;
    },
    finish(): ChatChunk[] {
      if (done) return [];
      throw new ProviderError({
        kind: 'stream_cut',
        message: 'gemini stream ended before a chunk with a finishReason',
        provider: geminiProvider,
        deployment: context.deployment.id,
      });
    },
  };
}
