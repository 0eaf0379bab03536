import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultSyntaxError, parseFaultHeader } from './parse-fault-header.ts';

describe('parseFaultHeader', () => {
  it('reads a status with its retry hint in seconds', () => {
    assert.deepEqual(parseFaultHeader('status=429; retry-after=2'), {
      fault: { kind: 'status', status: 429, retryAfterMs: 2000 },
    });
    assert.deepEqual(parseFaultHeader('status=503;retry-after=0.25'), {
      fault: { kind: 'status', status: 503, retryAfterMs: 250 },
    });
  });

  it('gives a 429 a one-second retry hint by default, other statuses none', () => {
    assert.deepEqual(parseFaultHeader('status=429'), {
      fault: { kind: 'status', status: 429, retryAfterMs: 1000 },
    });
    assert.deepEqual(parseFaultHeader('status=500'), { fault: { kind: 'status', status: 500 } });
  });

  it('reads every fault directive', () => {
    assert.deepEqual(parseFaultHeader('quota').fault, { kind: 'quota' });
    assert.deepEqual(parseFaultHeader('context-length').fault, { kind: 'context-length' });
    assert.deepEqual(parseFaultHeader('content-filter').fault, { kind: 'content-filter', target: 'prompt' });
    assert.deepEqual(parseFaultHeader('content-filter=output').fault, {
      kind: 'content-filter',
      target: 'output',
    });
    assert.deepEqual(parseFaultHeader('timeout').fault, { kind: 'timeout' });
    assert.deepEqual(parseFaultHeader('reset').fault, { kind: 'reset' });
    assert.deepEqual(parseFaultHeader('reset=after:4').fault, { kind: 'reset', afterEvents: 4 });
    assert.deepEqual(parseFaultHeader('cut-stream=after:3').fault, { kind: 'cut-stream', afterEvents: 3 });
    assert.deepEqual(parseFaultHeader('cut-stream').fault, { kind: 'cut-stream', afterEvents: 1 });
    assert.deepEqual(parseFaultHeader('malformed-chunk').fault, { kind: 'malformed-chunk', event: 1 });
    assert.deepEqual(parseFaultHeader('malformed-chunk=5').fault, { kind: 'malformed-chunk', event: 5 });
    assert.deepEqual(parseFaultHeader('stream-error=after:2').fault, {
      kind: 'stream-error',
      afterEvents: 2,
    });
  });

  it('reads latency distributions and combines them with a fault', () => {
    assert.deepEqual(parseFaultHeader('latency=50'), { latency: { distribution: 'fixed', ms: 50 } });
    assert.deepEqual(
      parseFaultHeader(
        'status=500; latency=uniform(10, 50); ttft=normal(200,40); chunk-delay=lognormal(20,0.5)',
      ),
      {
        fault: { kind: 'status', status: 500 },
        latency: { distribution: 'uniform', min: 10, max: 50 },
        ttft: { distribution: 'normal', mean: 200, stddev: 40 },
        chunkDelay: { distribution: 'lognormal', median: 20, sigma: 0.5 },
      },
    );
  });

  it('tolerates spaces, upper-case names and a trailing semicolon', () => {
    assert.deepEqual(parseFaultHeader('  STATUS = 500 ;  '), { fault: { kind: 'status', status: 500 } });
  });

  it('limits a fault to the first N identical requests with times', () => {
    assert.deepEqual(parseFaultHeader('status=503; times=2'), {
      fault: { kind: 'status', status: 503 },
      times: 2,
    });
  });

  const rejects = (
    text: string,
    pattern: RegExp,
    directive?: string,
    options?: { allowTimes?: boolean },
  ): void => {
    assert.throws(
      () => parseFaultHeader(text, options),
      (error: unknown) => {
        assert.ok(error instanceof FaultSyntaxError);
        assert.match(error.message, pattern);
        if (directive !== undefined) assert.equal(error.directive, directive);
        return true;
      },
    );
  };

  it('rejects an unknown directive, naming it', () =>
    rejects('status=500; explode', /unknown directive 'explode'/, 'explode'));
  it('rejects an empty header', () => rejects(' ; ', /empty/));
  it('rejects a repeated directive', () =>
    rejects('latency=5; latency=6', /'latency' is given twice/, 'latency'));
  it('rejects two faults at once', () =>
    rejects('status=500; timeout', /'status' and 'timeout' cannot be combined/, 'timeout'));
  it('rejects a status outside 400-599', () => rejects('status=200', /between 400 and 599/, 'status'));
  it('rejects a status that is not a number', () => rejects('status=abc', /whole number/, 'status'));
  it('rejects a missing value', () => rejects('status', /needs a value/, 'status'));
  it('rejects a value where none is taken', () => rejects('timeout=5', /takes no value/, 'timeout'));
  it('rejects retry-after without a status', () =>
    rejects('quota; retry-after=2', /'retry-after' needs a status/, 'retry-after'));
  it('rejects a bad retry-after', () => rejects('status=429; retry-after=soon', /seconds/, 'retry-after'));
  it('rejects a bad after: value', () => rejects('cut-stream=3', /'after:N'/, 'cut-stream'));
  it('rejects a bad latency', () => rejects('latency=gaussian(1,2)', /not a latency/, 'latency'));
  it('rejects uniform with max below min', () =>
    rejects('latency=uniform(50,10)', /max must be at least min/, 'latency'));
  it('rejects a bad content-filter target', () =>
    rejects('content-filter=input', /'prompt' or 'output'/, 'content-filter'));
  it('rejects times without a fault', () => rejects('latency=5; times=2', /needs a fault/, 'times'));
  it('rejects times where it is not allowed', () =>
    rejects('status=500; times=2', /only valid in the x-sim-fault/, 'times', { allowTimes: false }));
});
