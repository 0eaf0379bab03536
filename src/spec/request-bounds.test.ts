// Issue 9, point 18: values that would stall a provider or explode a bill are refused before
// they leave the gateway, with a 400 naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipewrightError } from '../core/index.ts';
import { parseChatRequest } from './chat.ts';
import { parseEmbeddingsRequest } from './embeddings.ts';
import { parseImagesRequest } from './images.ts';

function refused(parse: () => unknown, param: string, message: RegExp): void {
  assert.throws(
    parse,
    (error: unknown) =>
      PipewrightError.isInstance(error) &&
      error.status === 400 &&
      error.param === param &&
      message.test(error.message),
    param,
  );
}

const chat = { model: 'fast', messages: [{ role: 'user', content: 'hi' }] };

test('max_tokens and max_completion_tokens stop at a million', () => {
  refused(() => parseChatRequest({ ...chat, max_tokens: 2 ** 31 }), 'max_tokens', /at most 1000000/);
  refused(
    () => parseChatRequest({ ...chat, max_completion_tokens: Number.MAX_SAFE_INTEGER }),
    'max_completion_tokens',
    /at most 1000000/,
  );
  refused(() => parseChatRequest({ ...chat, n: 10_000 }), 'n', /128/);
  assert.equal(parseChatRequest({ ...chat, max_tokens: 128_000, n: 4 }).max_tokens, 128_000);
});

test('embeddings: dimensions: 4294967296 and negative token ids are refused', () => {
  const embed = { model: 'embed', input: 'hello' };
  refused(
    () => parseEmbeddingsRequest({ ...embed, dimensions: 4_294_967_296 }),
    'dimensions',
    /at most 16384/,
  );
  refused(() => parseEmbeddingsRequest({ ...embed, input: [1, -5] }), 'input[1]', />=0/);
  assert.equal(parseEmbeddingsRequest({ ...embed, dimensions: 3072 }).dimensions, 3072);
});

test('images: a size past 4096 px a side and n past 10 are refused', () => {
  const draw = { model: 'draw', prompt: 'a lighthouse' };
  refused(() => parseImagesRequest({ ...draw, size: '99999x99999' }), 'size', /at most 4096 pixels/);
  refused(() => parseImagesRequest({ ...draw, size: '1024x8192' }), 'size', /at most 4096 pixels/);
  refused(() => parseImagesRequest({ ...draw, n: 1_000 }), 'n', /10/);
  assert.equal(parseImagesRequest({ ...draw, size: '1536x1024', n: 2 }).size, '1536x1024');
  assert.equal(parseImagesRequest({ ...draw, size: 'auto' }).size, 'auto');
});
