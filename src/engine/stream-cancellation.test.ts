import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PipewrightConfigInput } from '../config/index.ts';
import type { CallRecord, TelemetryRecorder } from '../telemetry/index.ts';
import { chunk, createFakeProviderClient, usageChunk } from '../../test/support/fake-provider-client.ts';
import { createEngine } from '../pipewright.ts';

const never = new Promise<never>(() => undefined);

function setup(cache: boolean) {
  // The upstream sends one content chunk, then hangs: only a cancellation can end the call.
  const client = createFakeProviderClient({ stream: () => [chunk({ content: 'Hel' }), never] });
  const records: CallRecord[] = [];
  const recorder: TelemetryRecorder = {
    record: (record) => void records.push(record),
    flush: async () => undefined,
    close: async () => undefined,
  };
  const config: PipewrightConfigInput = {
    deployments: [{ id: 'only', provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1', apiKey: 'k' }],
    modelGroups: [{ name: 'main', deployments: ['only'] }],
    // One call in flight per tenant, refused beyond: a slot the cancelled stream kept would refuse the next call.
    resilience: { maxInFlightPerTenant: 1, overflow: 'reject' },
    cache: { enabled: cache },
  };
  const engine = createEngine({ config, client, recorder });
  // Temperature 0: cacheable, so with the cache on the stream goes through the cache layer and single-flight.
  const request = { model: 'main', messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0 };
  const upstreamSignal = (index: number) => client.calls[index]?.options?.signal;
  return { engine, client, records, request, upstreamSignal };
}

for (const cache of [false, true]) {
  const through = cache ? 'through the cache layer and single-flight' : 'without the cache';
  test(`a consumer that stops reading ends the upstream call and frees its slots (${through})`, async () => {
    const { engine, records, request, upstreamSignal } = setup(cache);
    const stream = await engine.chatStream(request);
    for await (const part of stream.chunks) {
      assert.equal(part.choices[0]?.delta.content, 'Hel');
      break; // the client went away
    }
    const final = await stream.done;
    assert.equal(upstreamSignal(0)?.aborted, true, 'the upstream request was aborted');
    assert.equal(final.deployment, 'only');
    assert.equal(records.length, 1);
    assert.equal(records[0]?.errorCode, 'provider.aborted');
    // The tenant's only slot is free again.
    const next = await engine.chatStream({ ...request, temperature: 0.5 });
    await next.chunks[Symbol.asyncIterator]().return?.();
    await next.done;
  });

  test(`a stream dropped before its first read is cancelled all the same (${through})`, async () => {
    const { engine, records, request, upstreamSignal } = setup(cache);
    const stream = await engine.chatStream(request);
    await stream.chunks[Symbol.asyncIterator]().return?.();
    await stream.done;
    assert.equal(upstreamSignal(0)?.aborted, true);
    assert.equal(records[0]?.errorCode, 'provider.aborted');
    const next = await engine.chatStream({ ...request, temperature: 0.5 });
    await next.chunks[Symbol.asyncIterator]().return?.();
  });
}

test('a stream read to its end is never cancelled, and its usage is recorded', async () => {
  const client = createFakeProviderClient({
    stream: () => [chunk({ content: 'Hi' }), chunk({}, 'stop'), usageChunk(3, 1)],
  });
  const records: CallRecord[] = [];
  const engine = createEngine({
    config: {
      deployments: [
        { id: 'only', provider: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1', apiKey: 'k' },
      ],
      modelGroups: [{ name: 'main', deployments: ['only'] }],
    },
    client,
    recorder: {
      record: (record) => void records.push(record),
      flush: async () => undefined,
      close: async () => undefined,
    },
  });
  const stream = await engine.chatStream({ model: 'main', messages: [{ role: 'user', content: 'hi' }] });
  const parts = [];
  for await (const part of stream.chunks) parts.push(part);
  await stream.done;
  assert.equal(client.calls[0]?.options?.signal?.aborted, false);
  assert.equal(records[0]?.outcome, 'success');
  assert.equal(records[0]?.outputTokens, 1);
  assert.ok(
    parts.every((part) => part.usage === undefined),
    'usage only when asked for',
  );
});
