import type { AssistantMessage, ChatChunk, ChatChoice, ChatResponse, ToolCall } from '../spec/index.ts';

/** A stored answer: a whole response, or a streamed answer as its chunk list (replayed as a stream). */
export type CachedAnswer =
  { kind: 'response'; response: ChatResponse } | { kind: 'stream'; chunks: ChatChunk[] };

/** What a hit saved: recorded at store time from the original call. */
export interface AvoidedCost {
  costUsd: number;
  latencyMs: number;
}

/** Which deployment produced a stored answer (so a hit still says, for example, that it was simulated). */
export interface CacheOrigin {
  provider: string;
  model: string;
  deployment: string;
  simulated: boolean;
}

/** One cache entry, as a backend stores it (JSON-serialisable). */
export interface CacheEntry {
  answer: CachedAnswer;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  /** The tenant, kept in the entry too, so a read can double-check isolation. */
  tenant: string;
  avoided: AvoidedCost;
  origin?: CacheOrigin;
}

/**
 * The answer as a whole response: a stored stream is assembled (content, tool calls, usage).
 *
 * @example
 * const response = toChatResponse(entry.answer);
 */
export function toChatResponse(answer: CachedAnswer): ChatResponse {
  return answer.kind === 'response' ? answer.response : assembleChunks(answer.chunks);
}

/**
 * The answer as a chunk list: a stored stream as it was, a whole response cut into a role chunk,
 * a content chunk, tool-call chunks, a finish chunk and a usage chunk.
 *
 * @example
 * for (const chunk of toChatChunks(entry.answer)) write(chunk);
 */
export function toChatChunks(answer: CachedAnswer): ChatChunk[] {
  return answer.kind === 'stream' ? answer.chunks : splitResponse(answer.response);
}

/**
 * Replays chunks as an async stream (what a streaming client of a hit receives).
 *
 * @example
 * for await (const chunk of replayChunks(toChatChunks(entry.answer))) write(chunk);
 */
export async function* replayChunks(chunks: readonly ChatChunk[]): AsyncGenerator<ChatChunk> {
  for (const chunk of chunks) yield chunk;
}

/**
 * Assembles streamed chunks into one response.
 *
 * @example
 * assembleChunks(chunks).choices[0]?.message.content;
 */
export function assembleChunks(chunks: readonly ChatChunk[]): ChatResponse {
  const first = chunks[0];
  const choices = new Map<
    number,
    {
      content: string | null;
      refusal: string | null;
      finish: ChatChoice['finish_reason'];
      tools: Map<number, ToolCall>;
    }
  >();
  let usage: ChatResponse['usage'];
  let fingerprint: string | null | undefined;
  for (const chunk of chunks) {
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
    if (chunk.system_fingerprint !== undefined) fingerprint = chunk.system_fingerprint;
    for (const choice of chunk.choices) {
      let state = choices.get(choice.index);
      if (state === undefined) {
        state = { content: null, refusal: null, finish: null, tools: new Map() };
        choices.set(choice.index, state);
      }
      const delta = choice.delta;
      if (typeof delta.content === 'string') state.content = (state.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') state.refusal = (state.refusal ?? '') + delta.refusal;
      if (choice.finish_reason !== null) state.finish = choice.finish_reason;
      for (const call of delta.tool_calls ?? []) {
        const existing = state.tools.get(call.index);
        if (existing === undefined) {
          state.tools.set(call.index, {
            id: call.id ?? '',
            type: 'function',
            function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
          });
        } else {
          if (call.id !== undefined && existing.id === '') existing.id = call.id;
          if (call.function?.name !== undefined && existing.function.name === '')
            existing.function.name = call.function.name;
          existing.function.arguments += call.function?.arguments ?? '';
        }
      }
    }
  }
  const response: ChatResponse = {
    id: first?.id ?? '',
    object: 'chat.completion',
    created: first?.created ?? 0,
    model: first?.model ?? '',
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, state]) => {
        const message: AssistantMessage = { role: 'assistant', content: state.content };
        if (state.tools.size > 0)
          message.tool_calls = [...state.tools.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
        if (state.refusal !== null) message.refusal = state.refusal;
        return { index, message, finish_reason: state.finish };
      }),
  };
  if (usage !== undefined) response.usage = usage;
  if (fingerprint !== undefined) response.system_fingerprint = fingerprint;
  return response;
}

function splitResponse(response: ChatResponse): ChatChunk[] {
  const base = {
    id: response.id,
    object: 'chat.completion.chunk' as const,
    created: response.created,
    model: response.model,
  };
  const chunks: ChatChunk[] = [];
  for (const choice of response.choices) {
    chunks.push({
      ...base,
      choices: [{ index: choice.index, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    if (choice.message.content !== null && choice.message.content !== '') {
      chunks.push({
        ...base,
        choices: [{ index: choice.index, delta: { content: choice.message.content }, finish_reason: null }],
      });
    }
    if (choice.message.refusal !== undefined && choice.message.refusal !== null) {
      chunks.push({
        ...base,
        choices: [{ index: choice.index, delta: { refusal: choice.message.refusal }, finish_reason: null }],
      });
    }
    const calls = choice.message.tool_calls ?? [];
    calls.forEach((call, index) => {
      chunks.push({
        ...base,
        choices: [
          {
            index: choice.index,
            delta: {
              tool_calls: [
                {
                  index,
                  id: call.id,
                  type: 'function',
                  function: { name: call.function.name, arguments: call.function.arguments },
                },
              ],
            },
            finish_reason: null,
          },
        ],
      });
    });
    chunks.push({
      ...base,
      choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason }],
    });
  }
  if (response.usage !== undefined) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}
