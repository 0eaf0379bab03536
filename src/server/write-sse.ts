import type { ServerResponse } from 'node:http';
import { once } from 'node:events';

/** Writes one SSE `data:` line, waiting for the socket to drain when the client reads slowly. */
export async function writeSseData(response: ServerResponse, data: string): Promise<void> {
  if (!response.write(`data: ${data}\n\n`)) {
    await once(response, 'drain');
  }
}
