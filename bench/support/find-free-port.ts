import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`, for a program that cannot be told to pick
 * its own (port 0) and report it.
 *
 * @example
 * const port = await findFreePort('127.0.0.1');
 */
export async function findFreePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('findFreePort: no TCP address');
  return address.port;
}
