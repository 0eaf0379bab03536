// Issue 3, point 4 with Redis: limits hold across engines (gateway processes) sharing one Redis,
// and a Redis outage is survived. Against the real Redis on 127.0.0.1:6379, a unique key prefix
// per test; every key has a TTL and the test deletes its own at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createSystemClock, PipewrightError } from '../../src/core/index.ts';
import { parseConfig, type PipewrightConfigInput } from '../../src/config/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { createEngine } from '../../src/pipewright.ts';
import { createSharedRateLimitStore, type SharedRateLimitStore } from '../../src/resilience/index.ts';
import { createFakeProviderClient } from '../support/fake-provider-client.ts';

const admin = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
const prefixes: string[] = [];
const closers: Array<() => Promise<void>> = [];

after(async () => {
  for (const close of closers.reverse()) await close();
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

function uniquePrefix(): string {
  const prefix = `pipewright-test:${process.pid}:${Date.now()}:${prefixes.length}:`;
  prefixes.push(prefix);
  return prefix;
}

function logs() {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      warn: (_details: object, message: string) => lines.push(`warn ${message}`),
      info: (_details: object, message: string) => lines.push(`info ${message}`),
    },
  };
}

const config: PipewrightConfigInput = {
  deployments: [
    {
      id: 'metered',
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'k',
      limits: { requestsPerMinute: 5 },
    },
  ],
  modelGroups: [{ name: 'main', deployments: ['metered'] }],
  // Fail fast over the limit, so the test counts answers instead of waiting a minute.
  resilience: { overflow: 'reject' },
};

function engineWith(shared: SharedRateLimitStore): Engine {
  const engine = createEngine({ config, client: createFakeProviderClient(), rateLimitStore: shared.store });
  closers.push(() => engine.close());
  return engine;
}

function sharedStore(
  url: string,
  keyPrefix: string,
  options: { logger?: ReturnType<typeof logs>['logger']; registry?: Registry } = {},
): SharedRateLimitStore {
  const shared = createSharedRateLimitStore({
    url,
    keyPrefix,
    clock: createSystemClock(),
    probeIntervalMs: 20,
    maxReconnectDelayMs: 20,
    ...options,
  });
  closers.push(() => shared.close());
  return shared;
}

async function outcome(engine: Engine): Promise<string> {
  return engine.chat({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => 'ok',
    (error: unknown) => (PipewrightError.isInstance(error) ? error.code : String(error)),
  );
}

test('the redis config key is validated, naming the field', () => {
  assert.throws(() => parseConfig({ redis: { url: 'http://127.0.0.1:6379' } }, {}), /redis\.url/);
  assert.equal(parseConfig({ redis: { url: 'redis://127.0.0.1:6379' } }, {}).redis?.keyPrefix, 'pipewright:');
});

test('two engines sharing one Redis share one limit: 5 requests a minute in all, not 5 each', async () => {
  const prefix = uniquePrefix();
  const engines = [
    engineWith(sharedStore('redis://127.0.0.1:6379', prefix)),
    engineWith(sharedStore('redis://127.0.0.1:6379', prefix)),
  ];
  const outcomes: string[] = [];
  for (let index = 0; index < 10; index++) outcomes.push(await outcome(engines[index % 2]!));
  assert.deepEqual(outcomes.slice(0, 5), ['ok', 'ok', 'ok', 'ok', 'ok']);
  assert.deepEqual(outcomes.slice(5), Array(5).fill('gateway.rate_limited'));
  const keys = await admin.keys(`${prefix}*`);
  assert.ok(keys.length > 0, 'the counters are in Redis');
  for (const key of keys) {
    const ttl = await admin.pttl(key);
    assert.ok(ttl > 0 && ttl <= 120_000, `${key} expires (pttl ${ttl})`);
  }
});

test('an unreachable Redis is survived: requests are served on in-process limits, logged once and counted', async () => {
  const { lines, logger } = logs();
  const registry = new Registry();
  // Port 1: nothing listens there.
  const engine = engineWith(sharedStore('redis://127.0.0.1:1', uniquePrefix(), { logger, registry }));
  const outcomes: string[] = [];
  for (let index = 0; index < 7; index++) outcomes.push(await outcome(engine));
  assert.deepEqual(
    outcomes,
    ['ok', 'ok', 'ok', 'ok', 'ok', 'gateway.rate_limited', 'gateway.rate_limited'],
    'served, and the limit still holds in-process',
  );
  assert.deepEqual(lines, [
    'warn rate limits: Redis is unreachable; using in-process counters (limits hold per process) until it is back',
  ]);
  const metrics = await registry.metrics();
  assert.match(metrics, /pipewright_rate_limit_store_degraded 1/);
  assert.match(metrics, /pipewright_rate_limit_store_fallbacks_total 1/);
});

/** A TCP relay to the real Redis that the test can cut and restore: Redis "goes down" for this client only. */
async function startRelay(): Promise<{
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(6379, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        if (typeof address === 'object' && address !== null) port = address.port;
        resolve();
      });
    });
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  };
  await listen();
  return { port, cut, restore: listen, close: async () => (server.listening ? cut() : undefined) };
}

test('Redis going away mid-way: requests are still served, and limits are shared again once it is back', async () => {
  const relay = await startRelay();
  closers.push(() => relay.close());
  const prefix = uniquePrefix();
  const { lines, logger } = logs();
  const shared = sharedStore(`redis://127.0.0.1:${relay.port}`, prefix, { logger });
  const engine = engineWith(shared);
  assert.equal(await outcome(engine), 'ok');
  assert.equal(shared.degraded(), false);
  assert.ok((await admin.keys(`${prefix}*`)).length > 0, 'the first request was counted in Redis');
  await relay.cut();
  for (let index = 0; index < 3; index++)
    assert.equal(await outcome(engine), 'ok', 'served while Redis is away');
  assert.equal(shared.degraded(), true);
  await relay.restore();
  // ioredis reconnects in the background (every 20 ms here); the next probe finds Redis again.
  let recovered = false;
  for (let tries = 0; tries < 100 && !recovered; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await outcome(engine);
    recovered = !shared.degraded();
  }
  assert.ok(recovered, 'back on Redis');
  assert.equal(lines.filter((line) => line.startsWith('warn')).length, 1, 'the outage was logged once');
  assert.equal(lines.at(-1), 'info rate limits: Redis is back; limits are shared again');
  // Shared again: another engine on the same prefix sees the same counters (5 in all; some were taken).
  const other = engineWith(sharedStore('redis://127.0.0.1:6379', prefix));
  const outcomes: string[] = [];
  for (let index = 0; index < 6; index++) outcomes.push(await outcome(other));
  assert.ok(
    outcomes.includes('gateway.rate_limited'),
    `the other engine is limited by the shared count: ${outcomes.join(', ')}`,
  );
});
