import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TransformContext } from '../types.ts';
import { parseOpenAIImagesResponse } from './parse-openai-images-response.ts';

const context: TransformContext = {
  deployment: { id: 'd', provider: 'openai', model: 'gpt-image-1', baseUrl: 'x' },
  created: 77,
  fallbackId: 'img',
};

describe('parseOpenAIImagesResponse', () => {
  it('keeps urls, base64 data, revised prompts and usage', () => {
    const response = parseOpenAIImagesResponse(
      {
        created: 5,
        data: [
          { url: 'https://img/1.png', revised_prompt: 'a cat' },
          { b64_json: 'iVBOR', revised_prompt: null },
        ],
        usage: { input_tokens: 10, output_tokens: 4160, total_tokens: 4170 },
      },
      context,
      'openai',
    );
    assert.deepEqual(response, {
      created: 5,
      data: [{ url: 'https://img/1.png', revised_prompt: 'a cat' }, { b64_json: 'iVBOR' }],
      usage: { input_tokens: 10, output_tokens: 4160, total_tokens: 4170 },
    });
  });

  it('fills created and rejects images without data', () => {
    assert.equal(parseOpenAIImagesResponse({ data: [{ url: 'u' }] }, context, 'openai').created, 77);
    assert.throws(
      () => parseOpenAIImagesResponse({ data: [{ revised_prompt: 'x' }] }, context, 'openai'),
      /data\[0\]: neither url nor b64_json/,
    );
  });
});
