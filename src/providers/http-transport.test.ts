import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { ProviderError } from '../core/index.ts';
import { createHttpTransport, mapTransportError } from './http-transport.ts';

function expectKind(kind: string) {
  return (error: unknown) => {
    assert.ok(ProviderError.isProviderError(error), String(error));
    assert.equal(error.kind, kind, error.message);
    return true;
  };
}

describe('createHttpTransport', () => {
  let server: Server;
  let origin: string;
  let connections = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return;
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.writeHead(201, {
          'content-type': 'application/json',
          'x-echo-type': String(req.headers['content-type']),
        });
        res.end(
          JSON.stringify({
            received: JSON.parse(Buffer.concat(parts).toString('utf8') || 'null'),
            auth: req.headers['authorization'] ?? null,
          }),
        );
      });
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a JSON body and returns status, flattened headers and the body', async () => {
    const transport = createHttpTransport();
    try {
      const response = await transport.send({
        method: 'POST',
        url: `${origin}/echo`,
        headers: { authorization: 'Bearer k' },
        body: { a: 1 },
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers['x-echo-type'], 'application/json');
      assert.equal(response.headers['set-cookie'], 'a=1, b=2');
      assert.deepEqual(JSON.parse(await response.body.text()), { received: { a: 1 }, auth: 'Bearer k' });
    } finally {
      await transport.close();
    }
  });

  it('reuses the keep-alive connection for sequential calls', async () => {
    const transport = createHttpTransport();
    try {
      const before = connections;
      for (let i = 0; i < 10; i++) {
        const response = await transport.send({
          method: 'POST',
          url: `${origin}/echo`,
          headers: {},
          body: { i },
        });
        await response.body.text();
      }
      // undici may open a second socket while the first is being released; never one per call.
      assert.ok(connections - before <= 2, `${connections - before} connections for 10 sequential calls`);
    } finally {
      await transport.close();
    }
  });

  it('maps a refused connection to connection, naming provider and deployment', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const transport = createHttpTransport();
    try {
      await assert.rejects(
        transport.send(
          { method: 'POST', url: `http://127.0.0.1:${port}/x`, headers: {}, body: {} },
          { provider: 'openai', deployment: 'd1' },
        ),
        (error: unknown) => {
          expectKind('connection')(error);
          assert.ok(ProviderError.isProviderError(error));
          assert.equal(error.deployment, 'd1');
          assert.match(error.message, /openai connection failed \(ECONNREFUSED\)/);
          return true;
        },
      );
    } finally {
      await transport.close();
    }
  });

  it('maps a headers timeout to timeout', async () => {
    const transport = createHttpTransport({ headersTimeoutMs: 30 });
    try {
      await assert.rejects(
        transport.send(
          { method: 'POST', url: `${origin}/hang`, headers: {}, body: {} },
          { provider: 'openai' },
        ),
        expectKind('timeout'),
      );
    } finally {
      await transport.close();
    }
  });

  it('maps an aborted signal to aborted, a timeout signal to timeout, and keeps a ProviderError reason', async () => {
    const transport = createHttpTransport();
    try {
      const controller = new AbortController();
      const pending = transport.send(
        { method: 'POST', url: `${origin}/hang`, headers: {}, body: {} },
        { signal: controller.signal, provider: 'openai' },
      );
      setImmediate(() => controller.abort());
      await assert.rejects(pending, expectKind('aborted'));
      await assert.rejects(
        transport.send(
          { method: 'POST', url: `${origin}/hang`, headers: {}, body: {} },
          { signal: AbortSignal.timeout(20), provider: 'openai' },
        ),
        expectKind('timeout'),
      );
      const reason = new ProviderError({
        kind: 'overloaded',
        message: 'bulkhead full',
        provider: 'pipewright',
      });
      await assert.rejects(
        transport.send(
          { method: 'POST', url: `${origin}/hang`, headers: {}, body: {} },
          { signal: AbortSignal.abort(reason), provider: 'openai' },
        ),
        expectKind('overloaded'),
      );
    } finally {
      await transport.close();
    }
  });

  it('does not close a dispatcher it was given', async () => {
    const dispatcher = new Agent();
    const transport = createHttpTransport({ dispatcher });
    await transport.close();
    assert.equal(dispatcher.closed, false);
    await dispatcher.close();
  });
});

describe('mapTransportError', () => {
  it('maps socket errors mid-stream to stream_cut and body timeouts to timeout', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    assert.equal(mapTransportError(socket, { provider: 'p', phase: 'stream' }).kind, 'stream_cut');
    assert.equal(mapTransportError(socket, { provider: 'p', phase: 'body' }).kind, 'connection');
    const bodyTimeout = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' });
    assert.equal(mapTransportError(bodyTimeout, { provider: 'p', phase: 'stream' }).kind, 'timeout');
    const wrapped = Object.assign(new Error('fetch failed'), {
      cause: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
    });
    assert.equal(mapTransportError(wrapped, { provider: 'p', phase: 'request' }).kind, 'timeout');
    assert.equal(
      mapTransportError(new Error('weird'), { provider: 'p', phase: 'request' }).kind,
      'connection',
    );
  });
});
