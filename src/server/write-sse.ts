import type { ServerResponse } from 'node:http';

/**
 * Writes one SSE `data:` line without waiting. Writes made in the same tick (the chunks of one
 * upstream packet) are corked into one socket write instead of one syscall each. Returns false
 * when the client reads slowly and the caller should `waitForDrain` before writing more: a stream
 * pays for a promise only when the socket actually pushes back, not once per chunk.
 */
export function writeSseEvent(response: ServerResponse, data: string): boolean {
  if (response.writableCorked === 0) {
    response.cork();
    process.nextTick(() => response.uncork());
  }
  return response.write(`data: ${data}\n\n`) || response.destroyed;
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
  if (!writeSseEvent(response, data)) await waitForDrain(response);
}
