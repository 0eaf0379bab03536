import type { ServerResponse } from 'node:http';

/**
 * Writes one SSE `data:` line, waiting for the socket to drain when the client reads slowly.
 * Writes made in the same tick (the chunks of one upstream packet) are corked into one socket
 * write instead of one syscall each. The wait also ends when the connection closes: a slow
 * client that leaves must not leave the stream (and its upstream call) suspended forever.
 */
export async function writeSseData(response: ServerResponse, data: string): Promise<void> {
  if (response.writableCorked === 0) {
    response.cork();
    process.nextTick(() => response.uncork());
  }
  if (!response.write(`data: ${data}\n\n`) && !response.destroyed) {
    await new Promise<void>((resolve) => {
      const settle = () => {
        response.off('drain', settle);
        response.off('close', settle);
        resolve();
      };
      response.once('drain', settle);
      response.once('close', settle);
    });
  }
}
