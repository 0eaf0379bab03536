import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSingleFlight } from './single-flight.ts';

/** A promise the test resolves or rejects by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** An upstream stream the test feeds chunk by chunk. */
function scriptedStream() {
  const chunks: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let calls = 0;
  let signal: AbortSignal | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  return {
    get calls() {
      return calls;
    },
    get signal() {
      return signal;
    },
    push: (chunk: string) => {
      chunks.push(chunk);
      poke();
    },
    end: () => {
      ended = true;
      poke();
    },
    fail: (error: Error) => {
      failure = error;
      poke();
    },
    call: (callSignal: AbortSignal) => {
      calls += 1;
      signal = callSignal;
      return (async function* () {
        let index = 0;
        for (;;) {
          if (index < chunks.length) {
            yield chunks[index++] as string;
            continue;
          }
          if (failure !== undefined) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      })();
    },
  };
}

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('identical concurrent calls share one upstream call', async () => {
  const flights = createSingleFlight();
  const upstream = deferred<string>();
  let calls = 0;
  const call = async () => {
    calls += 1;
    return upstream.promise;
  };
  const a = flights.run({ tenant: 't1', key: 'k' }, call);
  const b = flights.run({ tenant: 't1', key: 'k' }, call);
  upstream.resolve('answer');
  assert.deepEqual(await a, { value: 'answer', shared: false });
  assert.deepEqual(await b, { value: 'answer', shared: true });
  assert.equal(calls, 1);
  assert.equal(flights.size(), 0);
  // After it settled, the next caller starts a new call.
  await flights.run({ tenant: 't1', key: 'k' }, async () => 'again');
});

test('a join never crosses tenants', async () => {
  const flights = createSingleFlight();
  const upstream = deferred<string>();
  let calls = 0;
  const a = flights.run({ tenant: 't1', key: 'same-key' }, async () => {
    calls += 1;
    return upstream.promise;
  });
  const b = flights.run({ tenant: 't2', key: 'same-key' }, async () => {
    calls += 1;
    return 'tenant two answer';
  });
  assert.deepEqual(await b, { value: 'tenant two answer', shared: false });
  upstream.resolve('tenant one answer');
  assert.equal((await a).value, 'tenant one answer');
  assert.equal(calls, 2);
});

test("the leader's failure reaches every joiner", async () => {
  const flights = createSingleFlight();
  const upstream = deferred<string>();
  const call = () => upstream.promise;
  const a = flights.run({ tenant: 't1', key: 'k' }, call);
  const b = flights.run({ tenant: 't1', key: 'k' }, call);
  const failure = new Error('upstream 500');
  upstream.reject(failure);
  await assert.rejects(a, (error) => error === failure);
  await assert.rejects(b, (error) => error === failure);
});

test('an aborted caller does not abort the call while others wait; the last one leaving does', async () => {
  const flights = createSingleFlight();
  const upstream = deferred<string>();
  let upstreamSignal: AbortSignal | undefined;
  const call = (signal: AbortSignal) => {
    upstreamSignal = signal;
    return upstream.promise;
  };
  const leaderAbort = new AbortController();
  const joinerAbort = new AbortController();
  const leader = flights.run({ tenant: 't1', key: 'k' }, call, leaderAbort.signal);
  const joiner = flights.run({ tenant: 't1', key: 'k' }, call, joinerAbort.signal);
  const stays = flights.run({ tenant: 't1', key: 'k' }, call);
  leaderAbort.abort(new Error('client closed'));
  await assert.rejects(leader, /client closed/);
  joinerAbort.abort(new Error('joiner closed'));
  await assert.rejects(joiner, /joiner closed/);
  assert.equal(upstreamSignal?.aborted, false);
  upstream.resolve('done');
  assert.equal((await stays).value, 'done');

  const lonely = deferred<string>();
  const only = new AbortController();
  let lonelySignal: AbortSignal | undefined;
  const single = flights.run(
    { tenant: 't1', key: 'k2' },
    (signal) => {
      lonelySignal = signal;
      return lonely.promise;
    },
    only.signal,
  );
  only.abort(new Error('gone'));
  await assert.rejects(single, /gone/);
  assert.equal(lonelySignal?.aborted, true);
  lonely.resolve('late');
});

test('a late joiner of a stream receives the whole stream, including chunks sent before it joined', async () => {
  const flights = createSingleFlight();
  const upstream = scriptedStream();
  const first = flights.stream({ tenant: 't1', key: 'k' }, upstream.call);
  const firstChunks = collect(first.chunks);
  upstream.push('a');
  upstream.push('b');
  await tick();
  const late = flights.stream({ tenant: 't1', key: 'k' }, upstream.call);
  assert.equal(late.shared, true);
  const lateChunks = collect(late.chunks);
  upstream.push('c');
  upstream.end();
  assert.deepEqual(await firstChunks, ['a', 'b', 'c']);
  assert.deepEqual(await lateChunks, ['a', 'b', 'c']);
  assert.equal(upstream.calls, 1);
  // A stream of another tenant with the same key is its own call.
  const other = scriptedStream();
  const otherTenant = flights.stream({ tenant: 't2', key: 'k' }, other.call);
  assert.equal(otherTenant.shared, false);
  other.push('z');
  other.end();
  assert.deepEqual(await collect(otherTenant.chunks), ['z']);
});

test('a stream failure reaches every subscriber after the chunks already sent', async () => {
  const flights = createSingleFlight();
  const upstream = scriptedStream();
  const a = flights.stream({ tenant: 't1', key: 'k' }, upstream.call);
  const b = flights.stream({ tenant: 't1', key: 'k' }, upstream.call);
  const seenA: string[] = [];
  const seenB: string[] = [];
  const readA = (async () => {
    for await (const chunk of a.chunks) seenA.push(chunk);
  })();
  const readB = (async () => {
    for await (const chunk of b.chunks) seenB.push(chunk);
  })();
  upstream.push('a');
  await tick();
  upstream.fail(new Error('stream cut'));
  await assert.rejects(readA, /stream cut/);
  await assert.rejects(readB, /stream cut/);
  assert.deepEqual(seenA, ['a']);
  assert.deepEqual(seenB, ['a']);
});

test('an aborted stream subscriber leaves the stream running for the others', async () => {
  const flights = createSingleFlight();
  const upstream = scriptedStream();
  const leaving = new AbortController();
  const a = flights.stream({ tenant: 't1', key: 'k' }, upstream.call, leaving.signal);
  const b = flights.stream({ tenant: 't1', key: 'k' }, upstream.call);
  const readA = collect(a.chunks);
  const readB = collect(b.chunks);
  upstream.push('a');
  await tick();
  leaving.abort(new Error('client closed'));
  await assert.rejects(readA, /client closed/);
  assert.equal(upstream.signal?.aborted, false);
  upstream.push('b');
  upstream.end();
  assert.deepEqual(await readB, ['a', 'b']);

  const alone = scriptedStream();
  const onlyAbort = new AbortController();
  const only = flights.stream({ tenant: 't1', key: 'k3' }, alone.call, onlyAbort.signal);
  const readOnly = collect(only.chunks);
  await tick();
  onlyAbort.abort(new Error('bye'));
  await assert.rejects(readOnly, /bye/);
  assert.equal(alone.signal?.aborted, true);
  alone.end();
});
