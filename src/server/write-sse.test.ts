import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { writeSseData } from './write-sse.ts';

/** A response whose socket buffer is full: every write asks the caller to wait for 'drain'. */
function createBackedUpResponse() {
  const written: string[] = [];
  const response = Object.assign(new EventEmitter(), {
    writableCorked: 0,
    destroyed: false,
    cork() {},
    uncork() {},
    write(text: string) {
      written.push(text);
      return false;
    },
  });
  return { response, written };
}

test('waits for drain when the client reads slowly', async () => {
  const { response, written } = createBackedUpResponse();
  let finished = false;
  const writing = writeSseData(response as unknown as ServerResponse, '{"a":1}').then(
    () => (finished = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finished, false);
  response.emit('drain');
  await writing;
  assert.deepEqual(written, ['data: {"a":1}\n\n']);
  assert.equal(response.listenerCount('close'), 0, 'no listener left behind');
});

test('a client that leaves while the buffer is full ends the wait instead of hanging', async () => {
  const { response } = createBackedUpResponse();
  const writing = writeSseData(response as unknown as ServerResponse, '{"a":1}');
  response.emit('close');
  await writing;
  assert.equal(response.listenerCount('drain'), 0, 'no listener left behind');
});
