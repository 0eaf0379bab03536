import type { ProviderContractFixtures } from '../../contract-fixtures.ts';
import {
  createOpenAIContractFixtures,
  openAIChunk,
} from '../../openai/__fixtures__/openai-contract-fixtures.ts';

/**
 * Fixtures for servers that copy OpenAI's wire format loosely: chunks without `id`/`created`
 * (llama.cpp, older Ollama), a stream that ends after the finish reason without `[DONE]`,
 * vLLM's usage chunk with `choices: null`, vLLM's flat error object, Ollama's `{error:"…"}`,
 * OpenRouter's 402 for exhausted credits, Groq's `retry-after` on 429s.
 */
export function createOpenAICompatibleContractFixtures(options: {
  chatPath: string;
  model: string;
  authHeaders: Record<string, string | RegExp>;
  absentHeaders?: string[];
}): ProviderContractFixtures {
  const base = createOpenAIContractFixtures({ ...options });
  const bare = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    data: { choices: [{ index: 0, delta, finish_reason: finishReason }] },
  });
  const json = { 'content-type': 'application/json' };
  return {
    ...base,
    plainText: {
      ...base.plainText,
      // Minimal server: no id, created, system_fingerprint or usage.
      response: {
        headers: json,
        body: {
          object: 'chat.completion',
          model: options.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
        },
      },
      expect: { content: 'Hello!', finishReason: 'stop' },
    },
    streamText: {
      ...base.streamText,
      response: {
        sseEvents: [bare({ role: 'assistant', content: 'Hel' }), bare({ content: 'lo!' }), bare({}, 'stop')],
      },
      expect: { content: 'Hello!', finishReason: 'stop' },
    },
    streamUsage: {
      response: {
        sseEvents: [
          openAIChunk({ role: 'assistant', content: 'Hi' }),
          openAIChunk({}, 'stop'),
          {
            data: {
              id: 'cmpl-vllm',
              object: 'chat.completion.chunk',
              created: 1741570283,
              model: options.model,
              choices: null,
              usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
            },
          },
          { data: '[DONE]' },
        ],
      },
      expect: { content: 'Hi', finishReason: 'stop', usage: { inputTokens: 12, outputTokens: 2 } },
    },
    errors: {
      ...base.errors,
      badRequest: {
        name: '400 vLLM flat error object',
        response: {
          status: 400,
          headers: json,
          body: {
            object: 'error',
            message: "[{'type': 'missing', 'loc': ('body', 'messages'), 'msg': 'Field required'}]",
            type: 'BadRequestError',
            param: null,
            code: 400,
          },
        },
        expect: {
          kind: 'invalid_request',
          providerCode: 'BadRequestError',
          upstreamCode: '400',
          upstreamType: 'BadRequestError',
          upstreamParam: null,
        },
      },
      notFound: {
        name: '404 Ollama string error',
        response: {
          status: 404,
          headers: json,
          body: { error: 'model "llama9" not found, try pulling it first' },
        },
        expect: { kind: 'not_found' },
      },
      quotaExhausted: {
        name: '402 OpenRouter insufficient credits',
        response: {
          status: 402,
          headers: json,
          body: {
            error: {
              code: 402,
              message: 'Insufficient credits. Add more using https://openrouter.ai/credits',
            },
          },
        },
        expect: { kind: 'quota_exhausted', retryable: false, upstreamCode: '402' },
      },
      contextLengthExceeded: {
        name: '400 vLLM context length (no code)',
        response: {
          status: 400,
          headers: json,
          body: {
            object: 'error',
            message:
              "This model's maximum context length is 8192 tokens. However, you requested 9010 tokens (8010 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
            type: 'BadRequestError',
            param: null,
            code: 400,
          },
        },
        expect: { kind: 'context_length_exceeded', retryable: false },
      },
      overloaded: [
        {
          name: '503 plain-text body from a proxy',
          response: {
            status: 503,
            headers: { 'content-type': 'text/html' },
            raw: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>',
          },
          expect: { kind: 'overloaded', retryable: true },
        },
      ],
    },
    streamCut: {
      response: { sseEvents: [bare({ role: 'assistant', content: 'Once' }), bare({ content: ' upon' })] },
    },
  };
}
