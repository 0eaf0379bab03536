import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PipewrightError, ProviderError } from '../core/index.ts';
import type { ChatChunk, ChatRequest } from '../spec/index.ts';
import { openaiAdapter } from './openai/index.ts';
import { createProviderClient } from './provider-client.ts';
import type { Deployment, ProviderAdapter, ProviderClient } from './types.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<string> {
  let text = '';
  for await (const part of chunks) text += part.choices[0]?.delta.content ?? '';
  return text;
}

function expectKind(kind: string) {
  return (error: unknown) => {
    assert.ok(ProviderError.isProviderError(error), String(error));
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.deployment, 'dep');
    return true;
  };
}

describe('createProviderClient', () => {
  let server: Server;
  let deployment: Deployment;
  let client: ProviderClient;
  const handlers = new Map<string, Handler>();
  const request: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'Hi' }] };

  /** Routes by the call header, so tests can run side by side. */
  function on(name: string, handler: Handler): { headers: Record<string, string> } {
    handlers.set(name, handler);
    return { headers: { 'x-test': name } };
  }

  before(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const handler = handlers.get(String(req.headers['x-test']));
        if (handler === undefined) {
          res.writeHead(500);
          res.end();
          return;
        }
        handler(req, res, Buffer.concat(parts).toString('utf8'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    deployment = {
      id: 'dep',
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      apiKey: 'sk',
      headers: { 'x-org': 'deployment', 'x-both': 'deployment' },
    };
    client = createProviderClient({ transportOptions: { bodyTimeoutMs: 2000, headersTimeoutMs: 2000 } });
  });

  after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('merges deployment and call headers, the call winning', async () => {
    let seen: IncomingMessage['headers'] = {};
    const call = on('headers', (req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }] }));
    });
    await client.chat(request, deployment, { headers: { ...call.headers, 'x-both': 'call' } });
    assert.equal(seen['x-org'], 'deployment');
    assert.equal(seen['x-both'], 'call');
    assert.equal(seen['authorization'], 'Bearer sk');
  });

  it('embeds and generates images through the adapter', async () => {
    let embedBody: unknown;
    const embed = on('embed', (req, res, body) => {
      embedBody = JSON.parse(body);
      assert.equal(req.url, '/v1/embeddings');
      res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '99' });
      res.end(
        JSON.stringify({
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 2, total_tokens: 2 },
        }),
      );
    });
    const embedded = await client.embed(
      { model: 'alias', input: 'hello' },
      { ...deployment, model: 'text-embedding-3-small' },
      embed,
    );
    assert.deepEqual(embedded.response.data[0]?.embedding, [0.5, 0.25]);
    assert.equal(embedded.meta.headers['x-ratelimit-remaining-requests'], '99');
    assert.deepEqual(embedBody, { model: 'text-embedding-3-small', input: 'hello' });

    const images = on('images', (req, res) => {
      assert.equal(req.url, '/v1/images/generations');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ created: 9, data: [{ b64_json: 'iVBOR' }] }));
    });
    const generated = await client.images({ model: 'alias', prompt: 'a cat' }, deployment, images);
    assert.deepEqual(generated.response, { created: 9, data: [{ b64_json: 'iVBOR' }] });
  });

  it('rejects embeddings for an adapter without them with unsupported_operation', async () => {
    const chatOnly: ProviderAdapter = {
      name: 'anthropic',
      buildChatRequest: (...args) => openaiAdapter.buildChatRequest(...args),
      parseChatResponse: (...args) => openaiAdapter.parseChatResponse(...args),
      createStreamTransformer: (context) => openaiAdapter.createStreamTransformer(context),
      parseError: (...args) => openaiAdapter.parseError(...args),
    };
    const chatOnlyClient = createProviderClient({ registry: { getAdapter: () => chatOnly } });
    try {
      await assert.rejects(chatOnlyClient.embed({ model: 'x', input: 'y' }, deployment), (error: unknown) => {
        assert.ok(PipewrightError.isInstance(error));
        assert.equal(error.code, 'gateway.unsupported_operation');
        assert.match(error.message, /embeddings is not supported by provider anthropic/);
        return true;
      });
    } finally {
      await chatOnlyClient.close();
    }
  });

  it('reassembles SSE split at arbitrary byte boundaries, including inside a UTF-8 character', async () => {
    const call = on('split', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const bytes = Buffer.from(chunk('héllo ') + chunk('wörld', 'stop') + 'data: [DONE]\n\n', 'utf8');
      let offset = 0;
      const writeNext = () => {
        if (offset >= bytes.length) {
          res.end();
          return;
        }
        res.write(bytes.subarray(offset, offset + 3), () => setImmediate(writeNext));
        offset += 3;
      };
      writeNext();
    });
    const { chunks } = await client.chatStream(request, deployment, call);
    assert.equal(await collect(chunks), 'héllo wörld');
  });

  it('accepts a final [DONE] without its blank line', async () => {
    const call = on('no-trailing-newline', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunk('ok', 'stop') + 'data: [DONE]');
    });
    const { chunks } = await client.chatStream(request, deployment, call);
    assert.equal(await collect(chunks), 'ok');
  });

  it('reports a body cut mid-event as stream_cut, not malformed JSON', async () => {
    const call = on('cut-mid-event', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunk('Once') + 'data: {"id":"c1","choices":[{"index":0,"del');
    });
    const { chunks } = await client.chatStream(request, deployment, call);
    await assert.rejects(collect(chunks), expectKind('stream_cut'));
  });

  it('turns a whole JSON answer to a stream request into chunks (servers that ignore stream: true)', async () => {
    const call = on('json-for-stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          created: 3,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
    const { chunks } = await client.chatStream(request, deployment, call);
    const all: ChatChunk[] = [];
    for await (const part of chunks) all.push(part);
    assert.equal(all[0]?.choices[0]?.delta.content, 'whole');
    assert.equal(all[0]?.choices[0]?.finish_reason, 'stop');
    assert.equal(all.at(-1)?.usage?.total_tokens, 2);
  });

  it('rejects the chatStream promise for a JSON error body with a 200', async () => {
    const call = on('json-error-200', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: 'overloaded', type: 'server_error', code: 'server_is_overloaded' },
        }),
      );
    });
    await assert.rejects(client.chatStream(request, deployment, call), expectKind('overloaded'));
  });

  it('throws timeout from the iterator when the upstream goes silent mid-stream', async () => {
    const silentClient = createProviderClient({ transportOptions: { bodyTimeoutMs: 40 } });
    try {
      const call = on('silent', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('first'));
      });
      const { chunks } = await silentClient.chatStream(request, deployment, call);
      await assert.rejects(collect(chunks), expectKind('timeout'));
    } finally {
      await silentClient.close();
    }
  });

  it('rejects with connection when nothing listens, naming the deployment', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      client.chat(request, { ...deployment, baseUrl: `http://127.0.0.1:${port}/v1` }),
      expectKind('connection'),
    );
  });

  it('maps a non-JSON error page by status', async () => {
    const call = on('html-502', (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><h1>502 Bad Gateway</h1></html>');
    });
    await assert.rejects(client.chat(request, deployment, call), (error: unknown) => {
      expectKind('server_error')(error);
      assert.ok(ProviderError.isProviderError(error));
      assert.equal(error.upstreamStatus, 502);
      assert.match(error.message, /502 Bad Gateway/);
      return true;
    });
  });

  it('converts a transformer crash into malformed_response', async () => {
    const crashing: ProviderAdapter = {
      ...openaiAdapter,
      name: 'openai',
      createStreamTransformer: () => ({
        done: false,
        push: () => {
          throw new TypeError('cannot read properties of undefined');
        },
        finish: () => [],
      }),
    };
    const crashingClient = createProviderClient({ registry: { getAdapter: () => crashing } });
    try {
      const call = on('crash', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(chunk('x'));
      });
      const { chunks } = await crashingClient.chatStream(request, deployment, call);
      await assert.rejects(collect(chunks), expectKind('malformed_response'));
    } finally {
      await crashingClient.close();
    }
  });
});

describe('createProviderClient stream release', () => {
  it('closes the upstream socket when the stream is abandoned before the first chunk is read', async () => {
    let closed: () => void = () => undefined;
    const socketClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const server = createServer((req, res) => {
      req.resume();
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('never read'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createProviderClient();
    try {
      const deployment: Deployment = {
        id: 'dep',
        provider: 'openai',
        model: 'm',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      };
      const { chunks } = await client.chatStream(
        { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
        deployment,
      );
      await chunks[Symbol.asyncIterator]().return?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        socketClosed,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('upstream socket left open')), 3000);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
