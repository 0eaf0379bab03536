import type { ServerResponse } from 'node:http';
import { once } from 'node:events';

/**
 * Writes one SSE `data:` line, waiting for the socket to drain when the client reads slowly.
 * Writes made in the same tick (the chunks of one upstream packet) are corked into one socket
 * write instead of one syscall each.
 */
export async function writeSseData(response: ServerResponse, data: string): Promise<void> {
  if (response.writableCorked === 0) {
    response.cork();
    process.nextTick(() => response.uncork());
  }
  if (!response.write(`data: ${data}\n\n`)) {
    await once(response, 'drain');
  }
}
