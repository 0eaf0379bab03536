import type { ServerResponse } from 'node:http';

/** Writes a stream's SSE events to a response. */
export interface SseWriter {
  /**
   * Queues one `data:` event. Returns false when the client reads slowly: the caller should
   * await `drained()` before queueing more.
   */
  write(data: string): boolean;
  /** Resolves once the socket drained (or the client left). */
  drained(): Promise<void>;
  /** Writes what is queued (and `lastData`, if given), then ends the response. */
  end(lastData?: string): void;
}

/**
 * The events of one tick (the chunks of one upstream read) go out as ONE response write: with
 * chunked encoding every write is a framed chunk of its own and a buffer entry, which cost more
 * than the events themselves. A stream pays for a promise only when the socket pushes back.
 *
 * @example
 * const sse = createSseWriter(reply.raw);
 * for await (const chunk of chunks) if (!sse.write(JSON.stringify(chunk))) await sse.drained();
 * sse.end('[DONE]');
 */
export function createSseWriter(response: ServerResponse): SseWriter {
  let pending = '';
  let scheduled = false;
  let full = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    if (response.destroyed) return;
    if (!response.write(text)) full = true;
  };
  return {
    write(data) {
      pending += `data: ${data}\n\n`;
      if (!scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
      return !full;
    },
    async drained() {
      flush();
      if (full && !response.destroyed) await waitForDrain(response);
      full = false;
    },
    end(lastData) {
      if (lastData !== undefined) pending += `data: ${lastData}\n\n`;
      flush();
      response.end();
    },
  };
}

/**
 * Resolves once the socket drained, or closed: a slow client that leaves must not leave the
 * stream (and its upstream call) suspended forever.
 */
export function waitForDrain(response: ServerResponse): Promise<void> {
  if (response.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const settle = () => {
      response.off('drain', settle);
      response.off('close', settle);
      resolve();
    };
    response.once('drain', settle);
    response.once('close', settle);
  });
}

/** Writes one SSE `data:` line and waits for the socket to drain when the client reads slowly. */
export async function writeSseData(response: ServerResponse, data: string): Promise<void> {
  if (!response.write(`data: ${data}\n\n`) && !response.destroyed) await waitForDrain(response);
}
