import type { Redis, RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://host:6379/0` (or `rediss://`). */
  url: string;
  /** Longest wait for one command on a connected client before the call gives up. */
  commandTimeoutMs: number;
  /**
   * Longest wait for a connection (TCP connect and the Redis handshake): the first `client()`
   * waits this long; a command is never sent before the connection is ready. Default 2,000 ms.
   */
  connectTimeoutMs?: number | undefined;
  /** Longest pause between two reconnection tries while Redis is down. Default 2,000 ms. */
  maxReconnectDelayMs?: number | undefined;
}

/** One Redis connection, opened on first use, that fails fast while Redis is down and reconnects by itself. */
export interface RedisConnection {
  /**
   * The client, once the first connection attempt is over (connected, or failed within the connect
   * timeout); rejects when that attempt takes longer than the connect timeout.
   */
  client(): Promise<Redis>;
  /** Closes the connection (if one was opened); later `client()` calls reject. */
  close(): Promise<void>;
}

/**
 * A lazily opened ioredis connection for callers that must never wait on (or queue for) a Redis
 * that is down: the offline queue is off, so commands fail at once while disconnected, every
 * command has a timeout, and ioredis keeps reconnecting in the background. ioredis itself is
 * imported on first use, so a gateway without Redis never loads it.
 *
 * Connecting has its own, longer timeout: the first callers wait for the connection instead of
 * failing after the command timeout (on a loaded machine the connect and handshake alone can take
 * longer than a command may), and the handshake's own commands (the ready check) are bounded by the
 * connect timeout too. The command timeout applies from the moment the client is ready.
 *
 * @example
 * const connection = createRedisConnection({ url: 'redis://127.0.0.1:6379', commandTimeoutMs: 250, connectTimeoutMs: 2_000 });
 * const value = await (await connection.client()).get('key');
 * await connection.close();
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  if (!(connectTimeoutMs > 0)) throw new RangeError('connectTimeoutMs must be positive');
  let connecting: Promise<Redis> | undefined;
  let opened: Redis | undefined;
  let closed = false;

  function open(): Promise<Redis> {
    connecting ??= import('ioredis').then(async ({ Redis }) => {
      const redisOptions: RedisOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: connectTimeoutMs,
        // ioredis waits this long (a live timer) for a closing socket; closing must not hold the process.
        disconnectTimeout: 100,
        // Until the client is ready only the handshake's commands are sent (no offline queue):
        // they get the connect timeout, every command after it the command timeout.
        commandTimeout: connectTimeoutMs,
        retryStrategy: (times) => Math.min(100 * times, options.maxReconnectDelayMs ?? 2_000),
      };
      const redis = new Redis(options.url, redisOptions);
      // ioredis reads `options.commandTimeout` as each command is sent.
      redis.on('ready', () => {
        redis.options.commandTimeout = options.commandTimeoutMs;
      });
      redis.on('close', () => {
        redis.options.commandTimeout = connectTimeoutMs;
      });
      // Failures surface through the commands; without a listener ioredis prints every reconnection error.
      redis.on('error', () => undefined);
      await redis.connect().catch(() => undefined);
      opened = redis;
      return redis;
    });
    return connecting;
  }

  return {
    async client() {
      if (closed) throw new Error('the Redis connection is closed');
      // Once the first connection attempt is over, the client fails fast by itself (no offline queue).
      if (opened !== undefined) return opened;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not connect within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
      });
      try {
        return await Promise.race([open(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      if (connecting === undefined) return;
      const redis = await connecting;
      // Not connected: stop the reconnection loop at once (a quit would wait for a connection).
      if (redis.status !== 'ready') redis.disconnect();
      else await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The URL without its password, for logs.
 *
 * @example
 * redactRedisUrl('redis://:secret@cache:6379'); // "redis://:***@cache:6379"
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}
