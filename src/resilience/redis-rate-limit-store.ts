import type { Redis } from 'ioredis';
import type { RateLimitStore } from './rate-limiter.ts';

// One sliding-window counter per key, as in the memory store, computed atomically in Redis with
// Redis's own clock, so every gateway replica reads and writes the same window.
const consumeScript = `
local window = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if amount > limit then return {0, -1} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local index = math.floor(now / window)
local currentKey = KEYS[1] .. ':' .. index
local current = tonumber(redis.call('GET', currentKey) or '0')
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local elapsed = now - index * window
local estimate = previous * (1 - elapsed / window) + current
if estimate + amount <= limit then
  redis.call('INCRBY', currentKey, amount)
  redis.call('PEXPIRE', currentKey, window * 2)
  return {1, 0}
end
local excess = estimate + amount - limit
local remaining = window - elapsed
local drain = previous / window
if drain > 0 and excess / drain <= remaining then return {0, math.ceil(excess / drain)} end
local fraction = 0
if current > 0 then fraction = math.min(1, math.max(0, (current + amount - limit) / current)) end
return {0, math.ceil(remaining + fraction * window)}
`;

const adjustScript = `
local window = tonumber(ARGV[1])
local delta = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local currentKey = KEYS[1] .. ':' .. math.floor(now / window)
local value = tonumber(redis.call('GET', currentKey) or '0') + delta
if value < 0 then value = 0 end
redis.call('SET', currentKey, value, 'PX', window * 2)
return value
`;

/**
 * A rate-limit store in Redis: limits hold across every gateway process that shares it (the
 * limiter reads the shared counters, never a local copy, so the limit is not multiplied by the
 * number of replicas). Keys are `${prefix}${key}:${window index}` and expire after two windows.
 * The caller owns the connection.
 *
 * @example
 * const store = createRedisRateLimitStore({ redis: new Redis('redis://127.0.0.1:6379'), prefix: 'pipewright:rl:' });
 * const limiter = createRateLimiter({ clock, store });
 */
export function createRedisRateLimitStore(options: { redis: Redis; prefix?: string }): RateLimitStore {
  const { redis } = options;
  const prefix = options.prefix ?? 'pipewright:ratelimit:';
  return {
    async consume(key, amount, limit, windowMs) {
      const [allowed, retryInMs] = (await redis.eval(
        consumeScript,
        1,
        prefix + key,
        windowMs,
        Math.ceil(amount),
        limit,
      )) as [number, number];
      if (allowed === 1) return { allowed: true };
      return { allowed: false, retryInMs: retryInMs < 0 ? Infinity : retryInMs };
    },
    async adjust(key, delta, windowMs) {
      await redis.eval(adjustScript, 1, prefix + key, windowMs, Math.round(delta));
    },
  };
}
