import type { ChatChunk } from '../spec/index.ts';

/** True when a chunk's delta carries content (text or tool calls), not just a role or usage. */
export function hasContent(delta: ChatChunk['choices'][number]['delta']): boolean {
  return (
    (typeof delta.content === 'string' && delta.content.length > 0) ||
    (delta.tool_calls !== undefined && delta.tool_calls.length > 0)
  );
}

/**
 * A chunk as the caller sees it. Inside the engine every stream carries usage (it is always
 * requested upstream and always recorded); the caller gets the usage-only chunk and usage fields
 * only when it asked for them (`stream_options.include_usage`). Null: nothing to show.
 */
export function presentChunk(chunk: ChatChunk, wantsUsage: boolean): ChatChunk | null {
  if (wantsUsage) return chunk;
  if (chunk.choices.length === 0) return null;
  if (chunk.usage !== undefined) {
    const { usage: _usage, ...rest } = chunk;
    return rest;
  }
  return chunk;
}

/**
 * The stream the engine hands to its caller: chunks presented for that caller, and the one
 * cancellation mechanism. When the consumer stops before the end (breaks out of its loop, returns
 * or throws into the iterator, even before reading a chunk), `cancel` runs once and aborts the
 * call's signal, which every layer below listens to; a stream that ended by itself never cancels.
 *
 * @example
 * const controller = new AbortController();
 * const chunks = presentStream(stream.chunks, wantsUsage, () => controller.abort());
 */
export function presentStream(
  chunks: AsyncIterable<ChatChunk>,
  wantsUsage: boolean,
  cancel: () => void,
): AsyncIterableIterator<ChatChunk> {
  const iterator = chunks[Symbol.asyncIterator]();
  let ended = false;
  const stop = (): void => {
    if (ended) return;
    ended = true;
    cancel();
    // Not awaited: an inner generator suspended on an upstream read finishes once the signal lands.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  };
  const presented: AsyncIterableIterator<ChatChunk> = {
    // Not async: one promise per chunk (the inner one's), and a loop only past hidden chunks.
    next(): Promise<IteratorResult<ChatChunk>> {
      if (ended) return Promise.resolve({ done: true, value: undefined });
      const show = (
        step: IteratorResult<ChatChunk>,
      ): IteratorResult<ChatChunk> | Promise<IteratorResult<ChatChunk>> => {
        if (step.done === true) {
          ended = true;
          return step;
        }
        const shown = presentChunk(step.value, wantsUsage);
        return shown === null ? iterator.next().then(show, fail) : { done: false, value: shown };
      };
      const fail = (error: unknown): never => {
        ended = true;
        throw error;
      };
      return iterator.next().then(show, fail);
    },
    async return(): Promise<IteratorResult<ChatChunk>> {
      stop();
      return { done: true, value: undefined };
    },
    async throw(error: unknown): Promise<IteratorResult<ChatChunk>> {
      stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return presented;
    },
  };
  return presented;
}
