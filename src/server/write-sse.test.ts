import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createSseWriter, writeSseData } from './write-sse.ts';

/** A response whose socket buffer is full (`backedUp`): every write asks the caller to wait for 'drain'. */
function createResponse(backedUp: boolean) {
  const written: string[] = [];
  let ended = false;
  const response = Object.assign(new EventEmitter(), {
    destroyed: false,
    write(text: string) {
      written.push(text);
      return !backedUp;
    },
    end() {
      ended = true;
    },
  });
  return { response, written, ended: () => ended };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('the events of one tick go out as one write, and the end flushes what is queued first', async () => {
  const { response, written, ended } = createResponse(false);
  const sse = createSseWriter(response as unknown as ServerResponse);
  assert.equal(sse.write('{"a":1}'), true);
  assert.equal(sse.write('{"a":2}'), true);
  assert.deepEqual(written, [], 'nothing written before the tick ends');
  await tick();
  assert.deepEqual(written, ['data: {"a":1}\n\ndata: {"a":2}\n\n']);
  sse.write('{"a":3}');
  sse.end('[DONE]');
  assert.deepEqual(written.at(-1), 'data: {"a":3}\n\ndata: [DONE]\n\n');
  assert.equal(ended(), true);
});

test('a slow client makes the writer ask to wait, and the wait ends on drain', async () => {
  const { response } = createResponse(true);
  const sse = createSseWriter(response as unknown as ServerResponse);
  sse.write('{"a":1}');
  await tick();
  assert.equal(sse.write('{"a":2}'), false, 'the socket pushed back');
  let drained = false;
  const waiting = sse.drained().then(() => (drained = true));
  await tick();
  assert.equal(drained, false);
  response.emit('drain');
  await waiting;
  assert.equal(response.listenerCount('close'), 0, 'no listener left behind');
});

test('a client that leaves while the buffer is full ends the wait instead of hanging', async () => {
  const { response } = createResponse(true);
  const writing = writeSseData(response as unknown as ServerResponse, '{"a":1}');
  response.emit('close');
  await writing;
  assert.equal(response.listenerCount('drain'), 0, 'no listener left behind');
});
