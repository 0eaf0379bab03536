import type { ProviderContractFixtures } from '../../contract-fixtures.ts';
import {
  createOpenAIContractFixtures,
  openAIChunk,
} from '../../openai/__fixtures__/openai-contract-fixtures.ts';

/**
 * Azure OpenAI fixtures: the OpenAI wire format behind a deployment URL with `api-version` and
 * an `api-key` header; a first stream chunk with empty `choices` and `prompt_filter_results`;
 * `x-ms-retry-after-ms` / `retry-after-ms` on 429s; Azure's content-filter error
 * (`code: content_filter`, `innererror.code: ResponsibleAIPolicyViolation`); an error object
 * inside an HTTP-200 stream whose `code` is the status as a string.
 */
export function createAzureContractFixtures(options: {
  chatPath: string;
  model: string;
  apiKey: string;
}): ProviderContractFixtures {
  const base = createOpenAIContractFixtures({
    chatPath: options.chatPath,
    model: options.model,
    authHeaders: { 'api-key': options.apiKey },
    absentHeaders: ['authorization'],
  });
  const promptFilterChunk = {
    data: {
      choices: [],
      created: 0,
      id: '',
      model: '',
      object: '',
      prompt_filter_results: [
        {
          prompt_index: 0,
          content_filter_results: {
            hate: { filtered: false, severity: 'safe' },
            violence: { filtered: false, severity: 'safe' },
          },
        },
      ],
    },
  };
  const json = { 'content-type': 'application/json', 'apim-request-id': '5f0c2b5e-azure' };
  return {
    ...base,
    streamText: {
      ...base.streamText,
      response: { sseEvents: [promptFilterChunk, ...(base.streamText.response.sseEvents ?? [])] },
    },
    errors: {
      ...base.errors,
      rateLimited: [
        {
          name: '429 with x-ms-retry-after-ms and retry-after',
          response: {
            status: 429,
            headers: { ...json, 'x-ms-retry-after-ms': '2500', 'retry-after': '3' },
            body: {
              error: {
                code: '429',
                message:
                  'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 3 seconds.',
              },
            },
          },
          expect: { kind: 'rate_limited', retryAfterMs: 2500, upstreamCode: '429' },
        },
        {
          name: '429 with retry-after-ms',
          response: {
            status: 429,
            headers: { ...json, 'retry-after-ms': '400' },
            body: { error: { code: '429', message: 'Rate limit is exceeded. Try again in 1 seconds.' } },
          },
          expect: { kind: 'rate_limited', retryAfterMs: 400 },
        },
        ...base.errors.rateLimited.filter((scenario) => /retry-after seconds|HTTP date/.test(scenario.name)),
      ],
      contentFiltered: {
        name: '400 Azure content_filter',
        response: {
          status: 400,
          headers: json,
          body: {
            error: {
              message:
                "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
              type: null,
              param: 'prompt',
              code: 'content_filter',
              status: 400,
              innererror: {
                code: 'ResponsibleAIPolicyViolation',
                content_filter_result: { hate: { filtered: true, severity: 'high' } },
              },
            },
          },
        },
        expect: {
          kind: 'content_filtered',
          retryable: false,
          providerCode: 'content_filter',
          upstreamCode: 'content_filter',
          upstreamParam: 'prompt',
        },
      },
    },
    streamErrorEvent: {
      response: {
        sseEvents: [
          promptFilterChunk,
          openAIChunk({ role: 'assistant', content: 'Hi' }),
          {
            data: {
              error: {
                code: '429',
                message:
                  'Requests to the ChatCompletions_Create Operation have exceeded the token rate limit.',
              },
            },
          },
        ],
      },
      expect: { kind: 'rate_limited', upstreamCode: '429' },
    },
  };
}
