import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { parseConfig } from '../config/index.ts';
import type { Engine } from '../engine/index.ts';
import { answerClientError } from './answer-client-error.ts';
import { createServer } from './create-server.ts';

const masterKey = 'server-test-master-key';

function serverWith(server: Record<string, unknown> = {}) {
  const config = parseConfig({ server: { masterKey, ...server } });
  // No route under test here reaches the engine.
  return createServer({ engine: {} as Engine, config });
}

test('requests and their headers have a time limit by default, configurable', async () => {
  const app = serverWith();
  await app.ready();
  assert.equal(app.server.requestTimeout, 60_000);
  assert.equal(app.server.headersTimeout, 15_000);
  await app.close();
  const custom = serverWith({ requestTimeoutMs: 5_000, headersTimeoutMs: 2_000 });
  await custom.ready();
  assert.equal(custom.server.requestTimeout, 5_000);
  assert.equal(custom.server.headersTimeout, 2_000);
  await custom.close();
  assert.throws(
    () => parseConfig({ server: { masterKey, requestTimeoutMs: 5_000, headersTimeoutMs: 6_000 } }),
    /server\.headersTimeoutMs/,
  );
});

test('a client too slow to send its request gets a 408 in our envelope, and the connection is closed', () => {
  let written = '';
  let destroyed = false;
  const socket = {
    destroyed: false,
    writable: true,
    end(text: string, callback: () => void) {
      written += text;
      callback();
    },
    destroy() {
      destroyed = true;
    },
  } as unknown as Socket;
  answerClientError(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket);
  assert.match(written, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(written, /\r\nconnection: close\r\n/);
  assert.match(written, /\r\nx-should-retry: false\r\n/);
  const body = JSON.parse(written.slice(written.indexOf('\r\n\r\n') + 4));
  assert.equal(body.error.code, 'request.timeout');
  assert.ok(destroyed);
});

test('a draining gateway answers in our envelope, not the framework format', async () => {
  const app = serverWith();
  let entered!: () => void;
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  app.get('/v1/held', async () => {
    entered();
    await released;
    return { held: true };
  });
  // Runs after the server's own preClose hook (hooks run in the order they were added).
  let drainStarted!: () => void;
  const draining = new Promise<void>((resolve) => (drainStarted = resolve));
  app.addHook('preClose', (done) => {
    drainStarted();
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => (received += chunk));
  const ended = once(socket, 'close');
  const get = (path: string) =>
    `GET ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${masterKey}\r\n\r\n`;
  socket.write(get('/v1/held'));
  await inHandler;
  const closing = app.close();
  await draining;
  // A second request on the same connection arrives while the gateway drains.
  socket.write(get('/v1/models'));
  release();
  await ended;
  await closing;
  const second = received.slice(received.indexOf('HTTP/1.1', 1));
  assert.match(received, /^HTTP\/1\.1 200 /);
  assert.match(second, /^HTTP\/1\.1 503 /);
  assert.match(second, /\r\nx-should-retry: true\r\n/);
  const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4));
  assert.equal(body.error.code, 'gateway.shutting_down');
});
