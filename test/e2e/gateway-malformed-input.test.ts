import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  openAiClientFor,
  startTestStack,
  testMasterKey,
  type TestStack,
} from '../support/start-test-stack.ts';

// Issue 9, point 17: thousands of malformed requests found 500s, Fastify-format answers, answers
// naming no field and sockets held open. Every route gets the same treatment here.

const directory = mkdtempSync(join(tmpdir(), 'pw-malformed-'));
const workflowPath = join(directory, 'tagline.yaml');
writeFileSync(
  workflowPath,
  [
    'id: tagline',
    'version: 1',
    'inputs: [brief]',
    'outputs: { copy: $context.copy }',
    'context:',
    '  fields:',
    '    brief: { schema: { type: string, minLength: 3 } }',
    '    copy: { schema: { type: string } }',
    'nodes:',
    '  polish: { type: transform, fn: identity, input: $context.brief, writes: { copy: $output } }',
    '',
  ].join('\n'),
);
after(() => rmSync(directory, { recursive: true, force: true }));

let stack: TestStack;
before(async () => {
  stack = await startTestStack({ extraConfig: { workflows: [workflowPath] } });
});
after(async () => stack.close());

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request with exactly these headers (no content-type or body added behind our back). */
function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
  agent: Agent | false = false,
) {
  const { port } = new URL(stack.gateway.url);
  return new Promise<Answer>((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port: Number(port), method, path, headers, agent },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const key = { authorization: `Bearer ${testMasterKey}` };
const json = { ...key, 'content-type': 'application/json' };
const chatBody = (extra: string) =>
  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]${extra === '' ? '' : `,${extra}`}}`;
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const runPath = '/v1/workflows/runs/run-nope';

/** Every route of the gateway (the workflow ones with a run id that does not exist). */
const routes = [
  { method: 'POST', path: '/v1/chat/completions' },
  { method: 'POST', path: '/v1/embeddings' },
  { method: 'POST', path: '/v1/images/generations' },
  { method: 'POST', path: '/v1/workflows/runs' },
  { method: 'POST', path: `${runPath}/cancel` },
  { method: 'POST', path: `${runPath}/resume` },
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: '/v1/workflows' },
  { method: 'GET', path: '/v1/workflows/runs' },
  { method: 'GET', path: runPath },
  { method: 'GET', path: `${runPath}/context` },
  { method: 'GET', path: `${runPath}/events` },
  { method: 'GET', path: '/admin/breakers' },
  { method: 'GET', path: '/metrics' },
] as const;
const postRoutes = routes.filter((route) => route.method === 'POST');

interface Probe {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  status: number;
  /** The field the answer must name; null where no field is at fault (an unknown route). */
  param: string | RegExp | null;
  code?: string;
}

const probes: Probe[] = [];
for (const route of routes) {
  const base = { method: route.method, path: route.path };
  const unauthenticated = { status: 401, param: 'authorization', code: 'gateway.unauthenticated' };
  probes.push(
    { name: `${route.path}: no key`, ...base, headers: {}, ...unauthenticated },
    {
      name: `${route.path}: wrong key`,
      ...base,
      headers: { authorization: 'Bearer nope' },
      ...unauthenticated,
    },
    {
      name: `${route.path}: not a bearer key`,
      ...base,
      headers: { authorization: `Basic ${testMasterKey}` },
      ...unauthenticated,
    },
    {
      name: `${route.path}: a bad tenant`,
      ...base,
      headers: { ...key, 'x-pipewright-tenant': 'no spaces allowed' },
      status: 400,
      param: 'x-pipewright-tenant',
    },
  );
}
for (const route of postRoutes) {
  const base = { method: route.method, path: route.path };
  // Cancel and resume take at most 1 KiB: their deep bodies fit in that.
  const depth = route.path.startsWith(runPath) ? 400 : 5_000;
  const unauthenticated = { status: 401, param: 'authorization', code: 'gateway.unauthenticated' };
  // The key is checked before anything about the body.
  probes.push(
    {
      name: `${route.path}: no key, bad JSON`,
      ...base,
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
      ...unauthenticated,
    },
    {
      name: `${route.path}: no key, text`,
      ...base,
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
      ...unauthenticated,
    },
    {
      name: `${route.path}: no key, too large`,
      ...base,
      headers: { 'content-type': 'application/json' },
      body: `{"a":"${'x'.repeat(200_000)}"}`,
      ...unauthenticated,
    },
    {
      name: `${route.path}: text/plain`,
      ...base,
      headers: { ...key, 'content-type': 'text/plain' },
      body: 'hi',
      status: 415,
      param: 'content-type',
    },
    {
      name: `${route.path}: a body without content-type`,
      ...base,
      headers: key,
      body: Buffer.from('{}'),
      status: 415,
      param: 'content-type',
    },
    {
      name: `${route.path}: form data`,
      ...base,
      headers: { ...key, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
      status: 415,
      param: 'content-type',
    },
    {
      name: `${route.path}: empty JSON body`,
      ...base,
      headers: json,
      body: '',
      status: 400,
      param: 'body',
      code: 'request.invalid_json',
    },
    {
      name: `${route.path}: bad JSON`,
      ...base,
      headers: json,
      body: '{"model": ',
      status: 400,
      param: 'body',
      code: 'request.invalid_json',
    },
    {
      name: `${route.path}: prototype poisoning`,
      ...base,
      headers: json,
      body: '{"__proto__":{"x":1}}',
      status: 400,
      param: 'body',
    },
    {
      name: `${route.path}: JSON nested ${depth} deep`,
      ...base,
      headers: json,
      body: `{"zzz":${deepArray(depth)}}`,
      status: 400,
      param: 'zzz',
    },
    {
      name: `${route.path}: a top-level array nested ${depth} deep`,
      ...base,
      headers: json,
      body: deepArray(depth),
      status: 400,
      param: 'body',
    },
    {
      name: `${route.path}: larger than its limit`,
      ...base,
      headers: json,
      body: `{"a":"${'x'.repeat(70_000)}"}`,
      status: 413,
      param: 'body',
      code: 'request.too_large',
    },
  );
}
// Bodies that are JSON but not an object; cancel and resume read no body (their run is not found).
for (const route of postRoutes.slice(0, 4)) {
  for (const body of ['[1,2]', '"text"', '42', 'null', 'true']) {
    probes.push({
      name: `${route.path}: body ${body}`,
      method: 'POST',
      path: route.path,
      headers: json,
      body,
      status: 400,
      param: 'body',
    });
  }
}
probes.push(
  // the engine routes
  {
    name: 'chat: deep JSON inside a passed-through field',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: json,
    body: chatBody(`"metadata2":${deepArray(5_000)}`),
    status: 400,
    param: 'metadata2',
  },
  {
    name: 'chat: deep objects inside a tool schema',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: json,
    body: chatBody(
      `"tools":[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}}}]`,
    ),
    status: 400,
    param: 'tools',
  },
  {
    name: 'embeddings: deep JSON',
    method: 'POST',
    path: '/v1/embeddings',
    headers: json,
    body: `{"model":"gpt-4o-mini","input":"x","user":${deepArray(5_000)}}`,
    status: 400,
    param: 'user',
  },
  {
    name: 'images: deep JSON',
    method: 'POST',
    path: '/v1/images/generations',
    headers: json,
    body: `{"model":"gpt-4o-mini","prompt":"x","extra":${deepArray(5_000)}}`,
    status: 400,
    param: 'extra',
  },
  {
    name: 'chat: wrong type',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: json,
    body: '{"model":1,"messages":[]}',
    status: 400,
    param: 'model',
  },
  {
    name: 'chat: no messages',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: json,
    body: '{"model":"gpt-4o-mini"}',
    status: 400,
    param: 'messages',
  },
  {
    name: 'chat: unknown model',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: json,
    body: chatBody('').replace('gpt-4o-mini', 'nope'),
    status: 404,
    param: 'model',
  },
  {
    name: 'chat: bad timeout header',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { ...json, 'x-pipewright-timeout-ms': 'soon' },
    body: chatBody(''),
    status: 400,
    param: 'x-pipewright-timeout-ms',
  },
  {
    name: 'chat: bad cache-control header',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { ...json, 'x-pipewright-cache-control': 'sometimes' },
    body: chatBody(''),
    status: 400,
    param: 'x-pipewright-cache-control',
  },
  {
    name: 'embeddings: no input',
    method: 'POST',
    path: '/v1/embeddings',
    headers: json,
    body: '{"model":"gpt-4o-mini"}',
    status: 400,
    param: 'input',
  },
  {
    name: 'images: no prompt',
    method: 'POST',
    path: '/v1/images/generations',
    headers: json,
    body: '{"model":"gpt-4o-mini"}',
    status: 400,
    param: 'prompt',
  },
  // the workflow routes
  {
    name: 'start: an unknown key',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"tagline","bogus":1}',
    status: 400,
    param: 'bogus',
  },
  {
    name: 'start: neither workflow nor definition',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{}',
    status: 400,
    param: 'workflow',
  },
  {
    name: 'start: an unknown workflow',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"nope"}',
    status: 404,
    param: 'workflow',
  },
  {
    name: 'start: input not an object',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"tagline","input":[]}',
    status: 400,
    param: 'input',
  },
  {
    name: 'start: a missing input',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"tagline","input":{}}',
    status: 400,
    param: 'input.brief',
    code: 'workflow.input_invalid',
  },
  {
    name: 'start: an unknown input',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"tagline","input":{"brief":"tea","zz":1}}',
    status: 400,
    param: 'input.zz',
    code: 'workflow.input_invalid',
  },
  {
    name: 'start: a bad run id',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"workflow":"tagline","runId":"a b"}',
    status: 400,
    param: 'runId',
  },
  {
    name: 'start: a bad inline definition',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"definition":"id: x\\nversion: 1\\nnodes: {}"}',
    status: 400,
    param: 'definition.context',
  },
  {
    name: 'start: an inline definition that is not YAML',
    method: 'POST',
    path: '/v1/workflows/runs',
    headers: json,
    body: '{"definition":"{{{"}',
    status: 400,
    param: /^definition/,
  },
  {
    name: 'list: a bad limit',
    method: 'GET',
    path: '/v1/workflows/runs?limit=many',
    headers: key,
    status: 400,
    param: 'limit',
  },
  {
    name: 'list: an unknown query parameter',
    method: 'GET',
    path: '/v1/workflows/runs?bogus=1',
    headers: key,
    status: 400,
    param: 'bogus',
  },
  {
    name: 'list: a bad status',
    method: 'GET',
    path: '/v1/workflows/runs?status=sleeping',
    headers: key,
    status: 400,
    param: 'status',
  },
  {
    name: 'context: a bad version',
    method: 'GET',
    path: `${runPath}/context?version=-1`,
    headers: key,
    status: 400,
    param: 'version',
  },
  {
    name: 'events: a bad after',
    method: 'GET',
    path: `${runPath}/events?after=x`,
    headers: key,
    status: 400,
    param: 'after',
  },
  { name: 'run: an unknown run', method: 'GET', path: runPath, headers: key, status: 404, param: 'runId' },
  {
    name: 'run: a run id with spaces',
    method: 'GET',
    path: '/v1/workflows/runs/a%20b',
    headers: key,
    status: 404,
    param: 'runId',
  },
  {
    name: 'run: a run id of 129 characters',
    method: 'GET',
    path: `/v1/workflows/runs/${'a'.repeat(129)}`,
    headers: key,
    status: 404,
    param: 'runId',
  },
  // the router's own errors, before any hook: the key is still checked first
  {
    name: 'cancel: a malformed URL escape, no key',
    method: 'POST',
    path: '/v1/workflows/runs/%zz/cancel',
    headers: {},
    status: 401,
    param: 'authorization',
  },
  {
    name: 'resume: a too long run id, no key',
    method: 'POST',
    path: `/v1/workflows/runs/${'a'.repeat(300)}/resume`,
    headers: {},
    status: 401,
    param: 'authorization',
  },
  {
    name: 'cancel: a malformed URL escape',
    method: 'POST',
    path: '/v1/workflows/runs/%zz/cancel',
    headers: key,
    status: 400,
    param: 'url',
  },
  {
    name: 'resume: a too long run id',
    method: 'POST',
    path: `/v1/workflows/runs/${'a'.repeat(300)}/resume`,
    headers: key,
    status: 414,
    param: 'url',
  },
  {
    name: 'an unknown route',
    method: 'GET',
    path: '/v1/nope',
    headers: key,
    status: 404,
    param: null,
    code: 'gateway.not_found',
  },
  {
    name: 'an unknown method',
    method: 'DELETE',
    path: '/v1/chat/completions',
    headers: key,
    status: 404,
    param: null,
    code: 'gateway.not_found',
  },
);

interface Envelope {
  error: { message: unknown; type: unknown; code: unknown; param: unknown; pipewright_code: unknown };
}

/** Our envelope, the retry header and the code header, on any 4xx. */
function assertClientError(answer: Answer, label: string): Envelope['error'] {
  assert.ok(
    answer.status >= 400 && answer.status < 500,
    `${label}: status ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  assert.match(String(answer.headers['content-type']), /^application\/json/, label);
  const { error } = JSON.parse(answer.text) as Envelope;
  assert.equal(typeof error.message, 'string', label);
  assert.equal(typeof error.type, 'string', label);
  assert.equal(typeof error.code, 'string', label);
  assert.equal(typeof error.pipewright_code, 'string', label);
  assert.ok(error.param === null || typeof error.param === 'string', label);
  assert.equal(answer.headers['x-should-retry'], 'false', `${label}: a 4xx is not worth retrying as it is`);
  assert.equal(answer.headers['x-pipewright-error-code'], error.pipewright_code, label);
  return error;
}

describe('every malformed request gets a 4xx in our envelope naming the field', () => {
  for (const probe of probes) {
    test(probe.name, async () => {
      const answer = await send(probe.method, probe.path, probe.headers, probe.body);
      const error = assertClientError(answer, probe.name);
      assert.equal(answer.status, probe.status, `${probe.name}: ${answer.text.slice(0, 300)}`);
      if (probe.param instanceof RegExp) assert.match(String(error.param), probe.param, probe.name);
      else assert.equal(error.param, probe.param, `${probe.name}: ${answer.text.slice(0, 300)}`);
      if (probe.code !== undefined) assert.equal(error.pipewright_code, probe.code, probe.name);
    });
  }

  test('a missing or wrong key gets the same 401 envelope on the chat and the workflow routes', async () => {
    // A keep-alive client: the gateway, not the client, decides to close a refused connection.
    const agent = new Agent({ keepAlive: true });
    try {
      for (const authorization of [undefined, 'Bearer wrong-key-0123456789']) {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
        const answers = await Promise.all(
          routes.map((route) => send(route.method, route.path, headers, undefined, agent)),
        );
        const bodies = new Set(answers.map((answer) => answer.text));
        assert.equal(bodies.size, 1, [...bodies].join('\n'));
        assert.equal(JSON.parse(answers[0]?.text ?? '').error.param, 'authorization');
        for (const answer of answers) {
          assert.equal(answer.status, 401);
          assert.equal(answer.headers.connection, 'close', 'a refused caller does not keep its connection');
        }
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('random bodies on every POST route', () => {
  test('never a 5xx; every 4xx is our envelope naming a field', async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.dictionary(
        fc.constantFrom(
          'model',
          'messages',
          'input',
          'prompt',
          'workflow',
          'definition',
          'n',
          'stream',
          'tools',
        ),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    );
    const text = fc.oneof(
      value.map((item) => JSON.stringify(item)),
      fc.string({ maxLength: 40 }),
      value.map((item) => JSON.stringify(item).slice(0, -1)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...postRoutes.slice(0, 4)), text, async (route, body) => {
        const answer = await send(route.method, route.path, json, body);
        if (answer.status < 400) return;
        const error = assertClientError(answer, `${route.path} ${body.slice(0, 80)}`);
        assert.equal(
          typeof error.param,
          'string',
          `${route.path} ${body.slice(0, 80)}: ${answer.text.slice(0, 300)}`,
        );
      }),
      { seed: 9, numRuns: 300 },
    );
  });
});

describe('connections', () => {
  /** Reads one HTTP response off a raw socket, then whether the server closes the socket. */
  async function rawExchange(text: string): Promise<{ head: string; body: string; closed: Promise<void> }> {
    const { port } = new URL(stack.gateway.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(text);
    let received = '';
    socket.setEncoding('utf8');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: string) => (received += chunk));
    for (;;) {
      const end = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (end !== -1 && length !== undefined && received.length >= end + 4 + Number(length)) break;
      await Promise.race([once(socket, 'data'), closed]);
      if (socket.destroyed && received.indexOf('\r\n\r\n') === -1)
        throw new Error('closed without an answer');
    }
    const end = received.indexOf('\r\n\r\n');
    // The socket is ended by the test only if the server does not close it (then `closed` never resolves).
    return { head: received.slice(0, end), body: received.slice(end + 4), closed };
  }

  test('a caller without a key sending a slow body gets its 401 and the connection is closed at once', async () => {
    const exchange = await rawExchange(
      [
        'POST /v1/chat/completions HTTP/1.1',
        'host: 127.0.0.1',
        'content-type: application/json',
        'content-length: 60000',
        '',
        '{"model":"gpt-4o-mini","messages":[',
      ].join('\r\n'),
    );
    assert.match(exchange.head, /^HTTP\/1\.1 401 /);
    assert.match(exchange.head, /\r\nconnection: close\r\n/i);
    assert.equal(JSON.parse(exchange.body).error.code, 'gateway.unauthenticated');
    // The rest of the body is never sent; the server closes anyway, without waiting for it.
    await exchange.closed;
  });

  test('a body over the limit is refused before it is read, and the connection closed', async () => {
    const exchange = await rawExchange(
      [
        'POST /v1/chat/completions HTTP/1.1',
        'host: 127.0.0.1',
        `authorization: Bearer ${testMasterKey}`,
        'content-type: application/json',
        'content-length: 10000000',
        '',
        '{',
      ].join('\r\n'),
    );
    assert.match(exchange.head, /^HTTP\/1\.1 413 /);
    assert.match(exchange.head, /\r\nconnection: close\r\n/i);
    await exchange.closed;
  });

  test('malformed HTTP gets our envelope, not the framework format, and the connection closed', async () => {
    const exchange = await rawExchange('BREW /pot HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match(exchange.head, /^HTTP\/1\.1 400 /);
    assert.match(exchange.head, /\r\nx-should-retry: false\r\n/i);
    const { error } = JSON.parse(exchange.body) as Envelope;
    assert.equal(error.code, 'request.invalid');
    await exchange.closed;
  });

  test('headers larger than the server accepts get a 431 in our envelope naming the headers', async () => {
    const exchange = await rawExchange(
      `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-filler: ${'y'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(exchange.head, /^HTTP\/1\.1 431 /);
    const { error } = JSON.parse(exchange.body) as Envelope;
    assert.equal(error.param, 'headers');
    await exchange.closed;
  });
});

test('after all of it, the gateway still serves', async () => {
  const completion = await openAiClientFor(stack).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'still there?' }],
  });
  assert.equal(completion.choices.length, 1);
});
