import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { PipewrightError } from '../core/index.ts';
import type { CallRecord } from './call-record.ts';
import type { CallRecordSink } from './call-record-sink.ts';
import { createMetrics } from './metrics.ts';
import { createBatchingRecorder } from './telemetry-recorder.ts';

function record(index: number): CallRecord {
  return {
    id: `call_${index}`,
    time: 1_700_000_000_000 + index,
    tenantId: 'tenant_a',
    requestId: `req_${index}`,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    operation: 'chat',
    stepType: null,
    modelGroup: 'fast',
    provider: 'openai',
    model: 'gpt-4o-mini',
    deployment: 'openai-mini',
    streamed: false,
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    latencyMs: 100,
    timeToFirstTokenMs: null,
    costUsd: 0.0000045,
    cacheStatus: 'miss',
    outcome: 'success',
    errorCode: null,
    simulated: false,
  };
}

/** A sink that stores batches and can be told to fail or to hold writes until released. */
function createFakeSink() {
  const batches: string[][] = [];
  let failures = 0;
  let gate: Promise<void> | undefined;
  let releaseGate: (() => void) | undefined;
  const sink: CallRecordSink = {
    async insertMany(records) {
      if (gate !== undefined) await gate;
      if (failures > 0) {
        failures -= 1;
        throw new Error('disk full');
      }
      batches.push(records.map((item) => item.id));
    },
  };
  return {
    sink,
    batches,
    stored: () => batches.flat(),
    failNext(count: number) {
      failures = count;
    },
    hold() {
      gate = new Promise((resolve) => {
        releaseGate = resolve;
      });
    },
    release() {
      gate = undefined;
      releaseGate?.();
    },
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt += 1) await sleep(5);
  assert.ok(condition(), 'condition not reached');
}

describe('createBatchingRecorder', () => {
  test('record() only queues; flush() writes everything in order, in batches of maxBatch', async () => {
    const fake = createFakeSink();
    const recorder = createBatchingRecorder({ sink: fake.sink, maxBatch: 3, flushIntervalMs: 60_000 });
    for (let index = 0; index < 7; index += 1) recorder.record(record(index));
    assert.deepEqual(fake.batches, []);
    await recorder.flush();
    assert.deepEqual(fake.batches, [
      ['call_0', 'call_1', 'call_2'],
      ['call_3', 'call_4', 'call_5'],
      ['call_6'],
    ]);
    await recorder.close();
  });

  test('the timer writes queued records without a flush', async () => {
    const fake = createFakeSink();
    const recorder = createBatchingRecorder({ sink: fake.sink, flushIntervalMs: 5 });
    recorder.record(record(1));
    await waitFor(() => fake.stored().length === 1);
    assert.deepEqual(fake.stored(), ['call_1']);
    await recorder.close();
  });

  test('a full batch is written at once, without waiting for the timer', async () => {
    const fake = createFakeSink();
    const recorder = createBatchingRecorder({ sink: fake.sink, maxBatch: 2, flushIntervalMs: 60_000 });
    recorder.record(record(1));
    recorder.record(record(2));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(fake.batches, [['call_1', 'call_2']]);
    await recorder.close();
  });

  test('a failed write is reported, kept, and retried on the next flush without loss or duplicates', async () => {
    const fake = createFakeSink();
    const errors: Array<[unknown, number]> = [];
    const recorder = createBatchingRecorder({
      sink: fake.sink,
      flushIntervalMs: 60_000,
      onError: (error, dropped) => errors.push([error, dropped]),
    });
    recorder.record(record(1));
    recorder.record(record(2));
    fake.failNext(1);
    await assert.rejects(() => recorder.flush(), /disk full/);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.[1], 0);
    recorder.record(record(3));
    await recorder.flush();
    assert.deepEqual(fake.stored(), ['call_1', 'call_2', 'call_3']);
    await recorder.close();
  });

  test('when the queue exceeds maxQueue the oldest records are dropped, counted and reported', async () => {
    const fake = createFakeSink();
    const metrics = createMetrics({ defaultMetrics: false });
    const reports: Array<[unknown, number]> = [];
    const recorder = createBatchingRecorder({
      sink: fake.sink,
      maxQueue: 5,
      flushIntervalMs: 60_000,
      metrics,
      onError: (error, dropped) => reports.push([error, dropped]),
    });
    for (let index = 0; index < 8; index += 1) recorder.record(record(index));
    await recorder.flush();
    assert.deepEqual(fake.stored(), ['call_3', 'call_4', 'call_5', 'call_6', 'call_7']);
    assert.equal(reports.length, 1);
    const [error, dropped] = reports[0] ?? [];
    assert.equal(dropped, 3);
    assert.ok(PipewrightError.isInstance(error) && error.code === 'store.failure');
    assert.match(await metrics.render(), /^pipewright_telemetry_dropped_total 3$/m);
    await recorder.close();
  });

  test('a failing sink never grows the queue beyond maxQueue', async () => {
    const fake = createFakeSink();
    const dropped: number[] = [];
    const recorder = createBatchingRecorder({
      sink: fake.sink,
      maxQueue: 4,
      maxBatch: 2,
      flushIntervalMs: 60_000,
      onError: (_error, count) => dropped.push(count),
    });
    fake.failNext(1_000);
    for (let index = 0; index < 10; index += 1) recorder.record(record(index));
    await assert.rejects(() => recorder.flush());
    fake.failNext(0);
    await recorder.flush();
    assert.deepEqual(fake.stored(), ['call_6', 'call_7', 'call_8', 'call_9']);
    assert.equal(
      dropped.reduce((sum, count) => sum + count, 0),
      6,
    );
    await recorder.close();
  });

  test('flush() waits for a write already in flight', async () => {
    const fake = createFakeSink();
    const recorder = createBatchingRecorder({ sink: fake.sink, maxBatch: 1, flushIntervalMs: 60_000 });
    fake.hold();
    recorder.record(record(1));
    await nextTurn();
    await nextTurn();
    let flushed = false;
    const flushing = recorder.flush().then(() => {
      flushed = true;
    });
    recorder.record(record(2));
    await nextTurn();
    assert.equal(flushed, false);
    fake.release();
    await flushing;
    assert.deepEqual(fake.stored(), ['call_1', 'call_2']);
    await recorder.close();
  });

  test('close() writes everything queued; records after close are dropped and counted', async () => {
    const fake = createFakeSink();
    const metrics = createMetrics({ defaultMetrics: false });
    const recorder = createBatchingRecorder({ sink: fake.sink, flushIntervalMs: 60_000, metrics });
    for (let index = 0; index < 3; index += 1) recorder.record(record(index));
    await recorder.close();
    assert.deepEqual(fake.stored(), ['call_0', 'call_1', 'call_2']);
    recorder.record(record(9));
    await recorder.flush();
    assert.deepEqual(fake.stored(), ['call_0', 'call_1', 'call_2']);
    assert.match(await metrics.render(), /^pipewright_telemetry_dropped_total 1$/m);
  });

  test('invalid options are configuration errors naming the option', () => {
    const fake = createFakeSink();
    for (const [options, param] of [
      [{ maxBatch: 0 }, 'maxBatch'],
      [{ flushIntervalMs: 1.5 }, 'flushIntervalMs'],
      [{ maxQueue: -1 }, 'maxQueue'],
    ] as const) {
      assert.throws(
        () => createBatchingRecorder({ sink: fake.sink, ...options }),
        (error: unknown) =>
          PipewrightError.isInstance(error) && error.code === 'config.invalid' && error.param === param,
      );
    }
  });
});
