import { ConfigError, PipewrightError } from '../core/index.ts';
import type { CallRecord } from './call-record.ts';
import type { CallRecordSink } from './call-record-sink.ts';
import type { Metrics } from './metrics.ts';

/**
 * Collects call records on the hot path and writes them in batches off it.
 */
export interface TelemetryRecorder {
  /** Queues one record. Synchronous and O(1); never throws, never waits for I/O. */
  record(record: CallRecord): void;
  /**
   * Writes everything queued and waits for writes in flight. Rejects with the sink's error when
   * a write fails; the failed records stay queued and are retried on the next flush.
   */
  flush(): Promise<void>;
  /** Stops the timer and flushes. Records given to `record()` afterwards are dropped and counted. */
  close(): Promise<void>;
}

export interface BatchingRecorderOptions {
  /** Where batches go: a store's `callRecords`. */
  sink: CallRecordSink;
  /** Records per write (default 500). */
  maxBatch?: number;
  /** How often queued records are written (default 1,000 ms). The timer never keeps the process alive. */
  flushIntervalMs?: number;
  /** Records held at most; beyond this the oldest are dropped (default 100,000). */
  maxQueue?: number;
  /**
   * Told about failed writes (`dropped` 0: the records stay queued) and about records dropped
   * because the queue was full (`dropped` > 0). Without it, failures are only visible through
   * `flush()` and the `pipewright_telemetry_dropped_total` metric.
   */
  onError?: (error: unknown, dropped: number) => void;
  metrics?: Metrics;
}

const defaults = { maxBatch: 500, flushIntervalMs: 1_000, maxQueue: 100_000 } as const;

/**
 * A recorder that queues in memory and writes batches to a sink on a timer, as soon as a full
 * batch is waiting, and on `flush()`/`close()`. Memory is bounded by `maxQueue`.
 *
 * @example
 * const recorder = createBatchingRecorder({ sink: store.callRecords, metrics, onError: (error, dropped) => logger.warn({ error, dropped }, 'telemetry write failed') });
 * recorder.record(callRecord);     // on the hot path
 * await recorder.close();          // on shutdown: nothing queued is lost
 */
export function createBatchingRecorder(options: BatchingRecorderOptions): TelemetryRecorder {
  const maxBatch = positiveInteger(options.maxBatch ?? defaults.maxBatch, 'maxBatch');
  const flushIntervalMs = positiveInteger(
    options.flushIntervalMs ?? defaults.flushIntervalMs,
    'flushIntervalMs',
  );
  const maxQueue = positiveInteger(options.maxQueue ?? defaults.maxQueue, 'maxQueue');
  const { sink, onError, metrics } = options;

  // A queue as an array plus a head index: push and drop-oldest are O(1), compaction is amortised.
  let items: CallRecord[] = [];
  let head = 0;
  let writing: Promise<void> | undefined;
  let drainScheduled = false;
  let closed = false;
  let pendingDrops = 0;
  let lastWriteError: unknown;

  const size = (): number => items.length - head;

  const timer = setInterval(() => {
    reportDrops();
    if (size() > 0 && writing === undefined) flushQuietly();
  }, flushIntervalMs);
  timer.unref();

  function flushQuietly(): void {
    // Failures were already reported through onError by writeBatch.
    flush().catch(() => undefined);
  }

  function drop(count: number): void {
    pendingDrops += count;
    metrics?.observeTelemetryDropped(count);
  }

  function reportDrops(): void {
    if (pendingDrops === 0) return;
    const dropped = pendingDrops;
    pendingDrops = 0;
    const error = new PipewrightError({
      code: 'store.failure',
      message: `telemetry queue full: dropped ${dropped} call record(s)`,
      cause: lastWriteError,
      details: { dropped, maxQueue },
    });
    onError?.(error, dropped);
  }

  function take(count: number): CallRecord[] {
    const batch = items.slice(head, head + count);
    head += batch.length;
    if (head === items.length) {
      items = [];
      head = 0;
    } else if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
    return batch;
  }

  function requeue(batch: CallRecord[]): void {
    items = batch.concat(items.slice(head));
    head = 0;
    const excess = size() - maxQueue;
    if (excess > 0) {
      head += excess;
      drop(excess);
    }
  }

  function writeBatch(): Promise<void> {
    if (writing !== undefined) return writing;
    const batch = take(maxBatch);
    writing = (async () => {
      try {
        await sink.insertMany(batch);
        lastWriteError = undefined;
      } catch (error) {
        lastWriteError = error;
        requeue(batch);
        onError?.(error, 0);
        throw error;
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  }

  async function flush(): Promise<void> {
    // A write in flight may fail and requeue its records; the loop then retries them.
    if (writing !== undefined) await writing.catch(() => undefined);
    while (size() > 0 || writing !== undefined) {
      await (writing ?? writeBatch());
    }
    reportDrops();
  }

  return {
    record(record) {
      if (closed) {
        drop(1);
        reportDrops();
        return;
      }
      items.push(record);
      if (size() > maxQueue) {
        head += 1;
        drop(1);
      }
      if (size() >= maxBatch && !drainScheduled && writing === undefined) {
        drainScheduled = true;
        setImmediate(() => {
          drainScheduled = false;
          flushQuietly();
        });
      }
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError({
      message: `${name} must be a positive integer, got ${String(value)}`,
      param: name,
    });
  }
  return value;
}
