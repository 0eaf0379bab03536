// Test helpers shared by the cache tests (not exported from index.ts).
import type { Clock } from '../core/index.ts';
import type { ChatChunk, ChatRequest, ChatResponse } from '../spec/index.ts';
import type { CacheScope } from './cache-key.ts';

/** A clock the test moves by hand. */
export function createManualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    monotonic: () => now,
    sleep: async () => undefined,
    advance: (ms) => {
      now += ms;
    },
  };
}

export function scopeFor(tenant: string, overrides: Partial<CacheScope> = {}): CacheScope {
  return { tenant, stepType: 'chat', modelGroup: 'fast', configFingerprint: 'config-1', ...overrides };
}

export function chatRequest(content: string, overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'fast', messages: [{ role: 'user', content }], temperature: 0, ...overrides };
}

export function chatResponse(content: string): ChatResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'sim-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export function contentChunk(
  content: string,
  finish: ChatChunk['choices'][number]['finish_reason'] = null,
): ChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'sim-model',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  };
}
