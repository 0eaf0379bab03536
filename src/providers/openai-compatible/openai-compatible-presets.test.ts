import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  findOpenAICompatiblePreset,
  openAICompatiblePresetNames,
  openAICompatiblePresets,
} from './openai-compatible-presets.ts';

describe('openAICompatiblePresets', () => {
  it('names the documented local defaults', () => {
    assert.equal(openAICompatiblePresets.ollama.baseUrl, 'http://127.0.0.1:11434/v1');
    assert.equal(openAICompatiblePresets['lm-studio'].baseUrl, 'http://127.0.0.1:1234/v1');
    assert.equal(openAICompatiblePresets.ollama.authStyle, 'none');
    assert.equal(openAICompatiblePresets.groq.authStyle, 'bearer');
    assert.ok(openAICompatiblePresetNames.includes('openrouter'));
  });

  it('every preset has a valid URL without a trailing slash', () => {
    for (const name of openAICompatiblePresetNames) {
      const { baseUrl } = openAICompatiblePresets[name];
      assert.doesNotThrow(() => new URL(baseUrl), name);
      assert.equal(baseUrl.endsWith('/'), false, name);
    }
  });

  it('finds a preset by host, or by local port', () => {
    assert.equal(findOpenAICompatiblePreset('https://api.mistral.ai/v1')?.name, 'mistral');
    assert.equal(findOpenAICompatiblePreset('http://localhost:11434/v1')?.name, 'ollama');
    assert.equal(findOpenAICompatiblePreset('http://127.0.0.1:1234/v1')?.name, 'lm-studio');
    assert.equal(findOpenAICompatiblePreset('http://127.0.0.1:9999/v1'), undefined);
    assert.equal(findOpenAICompatiblePreset('not a url'), undefined);
  });
});
