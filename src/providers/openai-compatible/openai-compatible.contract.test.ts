import { runProviderContract } from '../provider-contract.ts';
import { createOpenAICompatibleContractFixtures } from './__fixtures__/openai-compatible-contract-fixtures.ts';

// A local server with no key (Ollama, vLLM): no Authorization header, extra deployment headers forwarded.
runProviderContract({
  name: 'openai-compatible (no key)',
  createDeployment: (origin) => ({
    id: 'contract-local',
    provider: 'openai-compatible',
    model: 'llama3.2',
    baseUrl: `${origin}/v1/`,
    headers: { 'x-title': 'pipewright-contract' },
  }),
  fixtures: createOpenAICompatibleContractFixtures({
    chatPath: '/v1/chat/completions',
    model: 'llama3.2',
    authHeaders: { 'x-title': 'pipewright-contract' },
    absentHeaders: ['authorization'],
  }),
});

// A hosted server with a key (Groq, Together, OpenRouter).
runProviderContract({
  name: 'openai-compatible (bearer key)',
  createDeployment: (origin) => ({
    id: 'contract-hosted',
    provider: 'openai-compatible',
    model: 'llama-3.3-70b-versatile',
    baseUrl: `${origin}/openai/v1`,
    apiKey: 'gsk-test',
  }),
  fixtures: createOpenAICompatibleContractFixtures({
    chatPath: '/openai/v1/chat/completions',
    model: 'llama-3.3-70b-versatile',
    authHeaders: { authorization: 'Bearer gsk-test' },
  }),
});
