// Integration tests against the real Redis on 127.0.0.1:6379 (a unique key prefix per run).
import { after, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createSystemClock } from '../core/index.ts';
import { cacheEntry, runCacheBackendContract } from './cache-backend-contract.ts';
import { createRedisCacheBackend, type RedisCacheBackendOptions } from './redis-cache-backend.ts';
import { createManualClock } from './test-support.ts';

const prefix = `pipewright-test:${process.pid}:${Date.now()}:`;
const url = 'redis://127.0.0.1:6379';
const raw = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
const opened: { close(): Promise<void> }[] = [];

// Where timeouts are not under test, none a stall of a loaded machine could reach.
const patientTimeoutMs = 30_000;

function backend(options: Partial<RedisCacheBackendOptions> = {}) {
  const created = createRedisCacheBackend({
    url,
    keyPrefix: prefix,
    clock: createSystemClock(),
    commandTimeoutMs: patientTimeoutMs,
    ...options,
  });
  opened.push(created);
  return created;
}

after(async () => {
  await Promise.all(opened.map((item) => item.close()));
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  await raw.quit();
});

runCacheBackendContract({
  name: 'redis',
  createBackend: (clock) =>
    createRedisCacheBackend({ url, keyPrefix: prefix, clock, commandTimeoutMs: patientTimeoutMs }),
});

function recordingLogger() {
  const lines: string[] = [];
  return {
    lines,
    warn: (_details: object, message: string) => lines.push(`warn: ${message}`),
    info: (_details: object, message: string) => lines.push(`info: ${message}`),
  };
}

test('an entry is stored under ${keyPrefix}cache:${key} as JSON with a PX expiry from expiresAt, and an expired one reads as a miss', async () => {
  const clock = createManualClock();
  const cache = backend({ clock });
  const entry = cacheEntry(clock.now(), { expiresAt: clock.now() + 60_000 });
  await cache.set('short', entry);
  assert.deepEqual(JSON.parse((await raw.get(`${prefix}cache:short`)) ?? 'null'), entry);
  // Redis removes it by itself at the PX expiry (no process-side sweep).
  const ttl = await raw.pttl(`${prefix}cache:short`);
  assert.ok(ttl > 0 && ttl <= 60_000, `pttl ${ttl}`);
  assert.deepEqual(await cache.get('short'), entry);
  // The process's clock decides too: past expiresAt it is a miss, whatever Redis still holds.
  clock.advance(60_000);
  assert.equal(await cache.get('short'), undefined);
  // An entry already expired is not written at all.
  await cache.set('expired', cacheEntry(clock.now(), { expiresAt: clock.now() }));
  assert.equal(await raw.exists(`${prefix}cache:expired`), 0);
});

test('an entry larger than maxEntryBytes is not stored, and the entry already there stays', async () => {
  const clock = createManualClock();
  const cache = backend({ clock, maxEntryBytes: 1_024 });
  const small = cacheEntry(clock.now());
  await cache.set('sized', small);
  const large = cacheEntry(clock.now(), { tenant: 'x'.repeat(1_024) });
  await cache.set('sized', large);
  await cache.set('large', large);
  assert.deepEqual(await cache.get('sized'), small);
  assert.equal(await raw.exists(`${prefix}cache:large`), 0);
  assert.equal(cache.degraded(), false);
  assert.throws(() => createRedisCacheBackend({ url, clock, maxEntryBytes: 0 }), /maxEntryBytes/);
});

test('two backends (two gateway processes) share entries through Redis', async () => {
  const clock = createManualClock();
  const [first, second] = [backend({ clock }), backend({ clock })];
  const entry = cacheEntry(clock.now(), { tenant: 'shared' });
  await first.set('shared', entry);
  assert.deepEqual(await second.get('shared'), entry);
  await second.delete('shared');
  assert.equal(await first.get('shared'), undefined);
});

test('an entry is never readable under another key prefix', async () => {
  const clock = createManualClock();
  const ofA = backend({ clock, keyPrefix: `${prefix}a:` });
  const ofB = backend({ clock, keyPrefix: `${prefix}b:` });
  await ofA.set('same-key', cacheEntry(clock.now(), { tenant: 'a' }));
  assert.equal(await ofB.get('same-key'), undefined);
  await ofB.set('same-key', cacheEntry(clock.now(), { tenant: 'b' }));
  assert.equal((await ofA.get('same-key'))?.tenant, 'a');
  assert.equal((await ofB.get('same-key'))?.tenant, 'b');
  await ofB.delete('same-key');
  assert.equal((await ofA.get('same-key'))?.tenant, 'a');
});

test('a value that is not an entry (foreign or corrupt) reads as a miss', async () => {
  const cache = backend({ clock: createManualClock() });
  await raw.set(`${prefix}cache:corrupt`, '{"not json');
  await raw.set(`${prefix}cache:foreign`, '{"hello":"world"}');
  assert.equal(await cache.get('corrupt'), undefined);
  assert.equal(await cache.get('foreign'), undefined);
  assert.equal(cache.degraded(), false);
});

test('with Redis unreachable no call fails: reads miss, writes are dropped, the outage is logged once and shown in /metrics', async () => {
  const registry = new Registry();
  const logger = recordingLogger();
  const cache = backend({
    url: 'redis://:secret@127.0.0.1:1',
    clock: createManualClock(),
    registry,
    logger,
    probeIntervalMs: 0,
  });
  assert.equal(cache.degraded(), false);
  for (let call = 0; call < 3; call += 1) {
    await cache.set('k', cacheEntry(Date.now()));
    assert.equal(await cache.get('k'), undefined);
    await cache.delete('k');
  }
  assert.deepEqual(await cache.stats(), { entries: 0, bytes: 0 });
  assert.equal(cache.degraded(), true);
  assert.deepEqual(logger.lines, [
    'warn: exact cache: Redis is unreachable; every lookup misses until it is back',
  ]);
  const metrics = await registry.metrics();
  assert.match(metrics, /^pipewright_cache_store_degraded 1$/m);
  assert.match(metrics, /^pipewright_cache_store_fallbacks_total 10$/m);
});

test('while degraded, calls skip Redis until the probe interval has passed', async () => {
  const registry = new Registry();
  const clock = createManualClock();
  const cache = backend({ url: 'redis://127.0.0.1:1', clock, registry, probeIntervalMs: 1_000 });
  assert.equal(await cache.get('k'), undefined);
  assert.equal(cache.degraded(), true);
  // Skipped calls do not send a command (nor wait for one).
  const sent = mock.method(Redis.prototype, 'get');
  try {
    for (let call = 0; call < 100; call += 1) assert.equal(await cache.get('k'), undefined);
    assert.equal(sent.mock.callCount(), 0);
    clock.advance(1_000);
    assert.equal(await cache.get('k'), undefined);
    assert.equal(sent.mock.callCount(), 1);
  } finally {
    sent.mock.restore();
  }
  assert.match(await registry.metrics(), /^pipewright_cache_store_fallbacks_total 102$/m);
});

test('a Redis that accepts connections but never answers: calls miss within the connect timeout, writes are dropped, nothing fails', async () => {
  const silent = createServer(() => undefined);
  await listen(silent, 0);
  try {
    const cache = backend({
      url: `redis://127.0.0.1:${port(silent)}`,
      clock: createManualClock(),
      commandTimeoutMs: 50,
      connectTimeoutMs: 50,
    });
    // Without the timeouts these calls would never end (the handshake is never answered).
    assert.equal(await cache.get('k'), undefined);
    await cache.set('k', cacheEntry(Date.now()));
    assert.equal(cache.degraded(), true);
    await cache.close();
  } finally {
    silent.close();
  }
});

test('Redis going away and coming back: calls never fail, one log line for each, entries shared again', async () => {
  // A TCP proxy in front of Redis stands in for a Redis restart.
  const proxy = await startRedisProxy();
  const registry = new Registry();
  const logger = recordingLogger();
  const clock = createManualClock();
  const cache = backend({
    url: proxy.url,
    clock,
    registry,
    logger,
    probeIntervalMs: 0,
    maxReconnectDelayMs: 20,
  });
  const entry = cacheEntry(clock.now());
  await cache.set('restart', entry);
  assert.deepEqual(await cache.get('restart'), entry);

  await proxy.stop();
  for (let call = 0; call < 5; call += 1) assert.equal(await cache.get('restart'), undefined);
  assert.equal(cache.degraded(), true);

  await proxy.start();
  // Bounded only so that a broken reconnection fails the test instead of hanging it.
  const deadline = Date.now() + 30_000;
  let found = await cache.get('restart');
  while (found === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    found = await cache.get('restart');
  }
  assert.deepEqual(found, entry);
  assert.equal(cache.degraded(), false);
  assert.deepEqual(logger.lines, [
    'warn: exact cache: Redis is unreachable; every lookup misses until it is back',
    'info: exact cache: Redis is back; answers are shared again',
  ]);
  assert.match(await registry.metrics(), /^pipewright_cache_store_degraded 0$/m);
  await cache.close();
  await proxy.stop();
});

test('the first calls after start wait for a slow connection: a write is not dropped when connecting takes longer than the command timeout', async (t) => {
  // Timeouts run on mocked timers: time passes only when the test says so, however slow the machine.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  // The proxy holds every connection until released: connecting is slower than a command may be.
  const proxy = await startRedisProxy({ hold: true });
  const commandTimeoutMs = 20;
  const clock = createManualClock();
  const cache = backend({ url: proxy.url, clock, commandTimeoutMs, connectTimeoutMs: 60_000 });
  const entry = cacheEntry(clock.now());
  try {
    const writing = cache.set('slow-connect', entry);
    const reading = cache.get('slow-connect-unknown');
    await proxy.connected;
    // Five command timeouts pass while connecting (before the fix, the write was dropped here).
    t.mock.timers.tick(commandTimeoutMs * 5);
    await new Promise((resolve) => setImmediate(resolve));
    proxy.release();
    await writing;
    assert.equal(await reading, undefined);
    assert.deepEqual(JSON.parse((await raw.get(`${prefix}cache:slow-connect`)) ?? 'null'), entry);
    assert.deepEqual(await cache.get('slow-connect'), entry);
    assert.equal(cache.degraded(), false);

    // Once connected, the command timeout applies: a Redis that stops answering costs a call its
    // timeout (without one this call would never end).
    proxy.freeze();
    const frozen = cache.get('slow-connect');
    let settled = false;
    void frozen.finally(() => (settled = true));
    for (let turn = 0; turn < 100 && !settled; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      t.mock.timers.tick(commandTimeoutMs);
    }
    assert.equal(await frozen, undefined);
    assert.equal(cache.degraded(), true);
  } finally {
    t.mock.timers.reset();
    await proxy.stop();
    await cache.close();
  }
});

test('after close, calls miss and store nothing, without reconnecting', async () => {
  const clock = createManualClock();
  const cache = createRedisCacheBackend({
    url,
    keyPrefix: prefix,
    clock,
    commandTimeoutMs: patientTimeoutMs,
  });
  await cache.set('closed', cacheEntry(clock.now()));
  await cache.close();
  assert.equal(await cache.get('closed'), undefined);
  await cache.set('closed-2', cacheEntry(clock.now()));
  assert.equal(await raw.exists(`${prefix}cache:closed-2`), 0);
  assert.equal(cache.degraded(), false);
});

function listen(server: Server, onPort: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(onPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function port(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

interface RedisProxy {
  url: string;
  /** Resolves when the first client connection reached the proxy. */
  connected: Promise<void>;
  /** With `hold`: connects the held clients (and every later one) to Redis. */
  release(): void;
  /** Stops forwarding in both directions on every open connection (Redis hangs). */
  freeze(): void;
  /** Closes the listener and every connection (Redis goes away). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** A TCP proxy in front of the real Redis; with `hold`, connections wait for `release()`. */
async function startRedisProxy(options: { hold?: boolean } = {}): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  const pairs: Array<[Socket, Socket]> = [];
  let held = options.hold === true;
  const waiting: Array<() => void> = [];
  let onFirst: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onFirst = resolve));
  const server = createServer((client) => {
    onFirst();
    client.pause();
    const forward = () => {
      const upstream = connectTcp(6379, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      pairs.push([client, upstream]);
      client.pipe(upstream).pipe(client);
    };
    sockets.add(client);
    client.on('error', () => undefined);
    client.on('close', () => sockets.delete(client));
    if (held) waiting.push(forward);
    else forward();
  });
  await listen(server, 0);
  const proxyPort = port(server);
  return {
    url: `redis://127.0.0.1:${proxyPort}`,
    connected,
    release() {
      held = false;
      for (const forward of waiting.splice(0)) forward();
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    start: () => listen(server, proxyPort),
  };
}
