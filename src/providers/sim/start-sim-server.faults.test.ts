import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../../core/index.ts';
import { countSimRequests } from './sim-stats.ts';
import { startSimServer, type SimServer } from './start-sim-server.ts';
import {
  createFakeClock,
  geminiHeaders,
  openAIHeaders,
  postJson,
  readJson,
  readSse,
  type FakeClock,
  type OpenAIChatBody,
  type OpenAIChunk,
  type OpenAIErrorBody,
} from './sim-test-support.ts';

const request = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Summarise the causes of the French Revolution' }],
};
const streamRequest = { ...request, stream: true };

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (condition()) return;
    await delay(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('sim: injected faults', () => {
  let sim: SimServer;
  let clock: FakeClock;
  let chat: string;
  const send = (fault: string, body: Record<string, unknown> = request): Promise<Response> =>
    postJson(chat, body, { ...openAIHeaders, 'x-sim-fault': fault });
  before(async () => {
    clock = createFakeClock();
    sim = await startSimServer({ clock });
    chat = `${sim.url}/v1/chat/completions`;
  });
  after(() => sim.close());

  it('answers status faults in the provider envelope, after the planned latency', async () => {
    clock.sleeps.length = 0;
    const failed = await send('status=500; latency=250');
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get('x-pipewright-simulated'), 'true');
    assert.equal((await readJson<OpenAIErrorBody>(failed)).error.type, 'server_error');
    assert.deepEqual(clock.sleeps, [250]);
    const overloaded = await send('status=503');
    assert.equal(overloaded.status, 503);
    assert.equal((await readJson<OpenAIErrorBody>(overloaded)).error.code, 'server_is_overloaded');
  });

  it('signals an exhausted quota as insufficient_quota with no retry hint', async () => {
    const response = await send('quota');
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), null);
    assert.equal((await readJson<OpenAIErrorBody>(response)).error.code, 'insufficient_quota');
  });

  it('sends OpenAI rate-limit headers with a 429', async () => {
    const response = await send('status=429; retry-after=360');
    assert.equal(response.headers.get('retry-after'), '360');
    assert.equal(response.headers.get('retry-after-ms'), '360000');
    assert.equal(response.headers.get('x-ratelimit-reset-requests'), '6m0s');
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal((await readJson<OpenAIErrorBody>(response)).error.code, 'rate_limit_exceeded');
  });

  it('answers context-length and content-filter faults', async () => {
    const tooLong = await send('context-length');
    assert.equal(tooLong.status, 400);
    assert.equal((await readJson<OpenAIErrorBody>(tooLong)).error.code, 'context_length_exceeded');
    const refused = await send('content-filter');
    assert.equal(refused.status, 400);
    assert.equal((await readJson<OpenAIErrorBody>(refused)).error.code, 'content_filter');
    const filtered = await readJson<OpenAIChatBody>(await send('content-filter=output'));
    assert.equal(filtered.choices[0]?.finish_reason, 'content_filter');
    assert.equal(countSimRequests(sim.stats(), { outcome: 'content_filtered' }), 2);
  });

  it('answers a bad fault header with a 400 naming the directive', async () => {
    const response = await send('status=503; sometimes');
    assert.equal(response.status, 400);
    const error = (await readJson<OpenAIErrorBody>(response)).error;
    assert.equal(error.param, 'x-sim-fault');
    assert.match(error.message, /unknown directive 'sometimes'/);
  });

  it('holds a timeout until the client gives up, then frees it', async () => {
    const controller = new AbortController();
    const headers = { ...openAIHeaders, 'x-sim-fault': 'timeout', 'content-type': 'application/json' };
    const aborted = fetch(chat, {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    await waitFor(
      () => countSimRequests(sim.stats(), { outcome: 'timeout' }) === 1,
      'the request to be held',
    );
    assert.equal(sim.stats().inFlight, 1);
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    await waitFor(() => sim.stats().inFlight === 0, 'the abandoned request to be released');
  });

  it('resets the connection before answering', async () => {
    await assert.rejects(send('reset'), TypeError);
    assert.equal(countSimRequests(sim.stats(), { outcome: 'connection_reset' }), 1);
  });

  it('resets the connection in the middle of a stream', async () => {
    const response = await send('reset=after:3', streamRequest);
    assert.equal(response.status, 200);
    await assert.rejects(readSse(response));
  });

  it('cuts a stream after N events without its terminator', async () => {
    const events = await readSse(await send('cut-stream=after:3', streamRequest));
    assert.equal(events.length, 3);
    assert.ok(events.every((event) => event.data !== '[DONE]'));
    assert.equal(countSimRequests(sim.stats(), { outcome: 'stream_cut' }), 1);
    const hugeN = await readSse(await send('cut-stream=after:5000', streamRequest));
    assert.notEqual(hugeN.at(-1)?.data, '[DONE]', 'the terminator is withheld whatever N is');
  });

  it('cuts a whole body in half outside streams', async () => {
    const response = await send('cut-stream');
    assert.equal(response.status, 200);
    await assert.rejects(response.json(), SyntaxError);
  });

  it('sends one malformed event and carries on', async () => {
    const events = await readSse(await send('malformed-chunk=2', streamRequest));
    assert.throws(() => JSON.parse(events[1]?.data ?? '') as unknown, SyntaxError);
    assert.doesNotThrow(() => JSON.parse(events[0]?.data ?? '') as unknown);
    assert.doesNotThrow(() => JSON.parse(events[2]?.data ?? '') as unknown);
    assert.equal(events.at(-1)?.data, '[DONE]');
  });

  it('sends an error event inside a 200 stream', async () => {
    const events = await readSse(await send('stream-error=after:2', streamRequest));
    assert.equal(events.length, 3);
    const error = JSON.parse(events[2]?.data ?? '') as OpenAIErrorBody;
    assert.equal(error.error.type, 'server_error');
  });

  it('waits ttft before the first content chunk and chunk-delay between the others', async () => {
    clock.sleeps.length = 0;
    const events = await readSse(await send('ttft=300; chunk-delay=7', streamRequest));
    const contentEvents = events.filter(
      (event) =>
        event.data !== '[DONE]' &&
        (JSON.parse(event.data) as OpenAIChunk).choices[0]?.delta.role === undefined,
    );
    assert.equal(clock.sleeps[0], 300);
    assert.deepEqual(new Set(clock.sleeps.slice(1)), new Set([7]));
    assert.equal(clock.sleeps.length, contentEvents.length);
  });

  it('spreads a total stream latency over its chunks', async () => {
    clock.sleeps.length = 0;
    await readSse(await send('latency=1000', streamRequest));
    const total = clock.sleeps.reduce((sum, ms) => sum + ms, 0);
    assert.ok(Math.abs(total - 1000) < 1, `slept ${total} ms`);
  });

  it('fails only the first N identical requests with times', async () => {
    const body = { ...request, user: 'times-test' };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++)
      statuses.push((await send('status=503; times=2', body)).status);
    assert.deepEqual(statuses, [503, 503, 200, 200]);
    const other = await send('status=503; times=2', { ...body, user: 'another-request' });
    assert.equal(other.status, 503, 'a different request has its own count');
  });
});

describe('sim: config rules', () => {
  const statuses = async (sim: SimServer, count: number): Promise<number[]> => {
    const out: number[] = [];
    for (let index = 0; index < count; index++)
      out.push((await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders)).status);
    return out;
  };

  it('draws the same failures for the same seed', async () => {
    const config = { rules: [{ failureRate: 0.3 }] };
    const first = await startSimServer({ config, seed: 5 });
    const second = await startSimServer({ config, seed: 5 });
    const third = await startSimServer({ config, seed: 6 });
    try {
      const run = await statuses(first, 40);
      assert.deepEqual(await statuses(second, 40), run);
      assert.notDeepEqual(await statuses(third, 40), run);
      assert.ok(run.includes(200));
      assert.ok(run.some((status) => [500, 503, 429].includes(status)));
      assert.ok(run.every((status) => [200, 500, 503, 429].includes(status)));
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
    }
  });

  it('applies a rule only to the models and endpoints it matches', async () => {
    const sim = await startSimServer({
      config: {
        rules: [
          {
            match: { model: 'gpt-4o*', endpoint: 'chat' },
            faults: [{ fault: 'status=529', probability: 1 }],
          },
        ],
      },
    });
    try {
      assert.equal((await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders)).status, 529);
      assert.equal(
        (await postJson(`${sim.url}/v1/chat/completions`, { ...request, model: 'o3-mini' }, openAIHeaders))
          .status,
        200,
      );
      assert.equal(
        (await postJson(`${sim.url}/v1/embeddings`, { model: 'gpt-4o-mini', input: 'x' }, openAIHeaders))
          .status,
        200,
      );
      assert.equal(countSimRequests(sim.stats(), { model: 'gpt-4o-mini', outcome: 'overloaded' }), 1);
    } finally {
      await sim.close();
    }
  });

  it('is down during an outage window counted from server start', async () => {
    const clock = createFakeClock();
    const sim = await startSimServer({
      clock,
      config: { rules: [{ outages: [{ fromMs: 10_000, toMs: 20_000 }] }] },
    });
    try {
      assert.deepEqual(await statuses(sim, 1), [200]);
      clock.advance(10_000);
      assert.deepEqual(await statuses(sim, 2), [503, 503]);
      clock.advance(10_000);
      assert.deepEqual(await statuses(sim, 1), [200]);
    } finally {
      await sim.close();
    }
  });

  it('enforces a per-minute request limit with real rate-limit headers', async () => {
    const clock = createFakeClock();
    const sim = await startSimServer({ clock, config: { rules: [{ limits: { requestsPerMinute: 2 } }] } });
    try {
      const first = await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders);
      assert.equal(first.headers.get('x-ratelimit-limit-requests'), '2');
      assert.equal(first.headers.get('x-ratelimit-remaining-requests'), '1');
      clock.advance(15_000);
      assert.equal(
        (await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders)).headers.get(
          'x-ratelimit-remaining-requests',
        ),
        '0',
      );
      const limited = await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '45');
      assert.equal(limited.headers.get('x-ratelimit-reset-requests'), '45s');
      clock.advance(45_000);
      assert.deepEqual(await statuses(sim, 1), [200]);
    } finally {
      await sim.close();
    }
  });

  it('rejects prompts beyond a context window', async () => {
    const sim = await startSimServer({ config: { rules: [{ contextWindow: 50 }] } });
    try {
      const long = { ...request, messages: [{ role: 'user', content: 'word '.repeat(80) }] };
      const response = await postJson(`${sim.url}/v1/chat/completions`, long, openAIHeaders);
      assert.equal(response.status, 400);
      assert.match(
        (await readJson<OpenAIErrorBody>(response)).error.message,
        /maximum context length is 50 tokens/,
      );
      assert.equal((await postJson(`${sim.url}/v1/chat/completions`, request, openAIHeaders)).status, 200);
    } finally {
      await sim.close();
    }
  });

  it('changes behaviour on setConfig and keeps the old config when the new one is invalid', async () => {
    const sim = await startSimServer();
    try {
      assert.deepEqual(await statuses(sim, 1), [200]);
      sim.setConfig({ rules: [{ faults: [{ fault: 'status=500', probability: 1 }] }] });
      assert.deepEqual(await statuses(sim, 1), [500]);
      assert.throws(
        () => sim.setConfig({ rules: [{ faults: [{ fault: 'status=42', probability: 1 }] }] }),
        ConfigError,
      );
      assert.deepEqual(await statuses(sim, 1), [500]);
    } finally {
      await sim.close();
    }
  });

  it('refuses to start with an invalid config, naming the field', async () => {
    await assert.rejects(
      startSimServer({ config: { rules: [{ latency: 'fast' }] } }),
      (error: unknown) => error instanceof ConfigError && error.param === 'rules[0].latency',
    );
  });
});

describe('sim: close()', () => {
  it('ends held timeouts and slow streams, leaving nothing in flight', async () => {
    const sim = await startSimServer();
    const chat = `${sim.url}/v1/chat/completions`;
    // Expectations are attached at once: close() makes all three fail together.
    const held = assert.rejects(postJson(chat, request, { ...openAIHeaders, 'x-sim-fault': 'timeout' }));
    const slow = await postJson(chat, streamRequest, {
      ...openAIHeaders,
      'x-sim-fault': 'chunk-delay=600000',
    });
    const reading = assert.rejects(readSse(slow));
    // A slow first token: the 200 and its headers arrive, the content does not.
    const gemini = `${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;
    const waiting = await postJson(
      gemini,
      { contents: [{ parts: [{ text: 'Hi' }] }] },
      { ...geminiHeaders, 'x-sim-fault': 'ttft=600000' },
    );
    assert.equal(waiting.status, 200);
    const firstToken = assert.rejects(readSse(waiting));
    await waitFor(() => sim.stats().inFlight === 3, 'all three requests to be in flight');
    await sim.close();
    await Promise.all([held, reading, firstToken]);
    assert.equal(sim.stats().inFlight, 0);
  });
});
