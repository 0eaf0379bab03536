import { runProviderContract } from '../provider-contract.ts';
import { createOpenAIContractFixtures } from './__fixtures__/openai-contract-fixtures.ts';

runProviderContract({
  name: 'openai',
  createDeployment: (origin) => ({
    id: 'contract-openai',
    provider: 'openai',
    model: 'gpt-4o-mini',
    baseUrl: `${origin}/v1`,
    apiKey: 'sk-test',
  }),
  fixtures: createOpenAIContractFixtures({
    chatPath: '/v1/chat/completions',
    authHeaders: { authorization: 'Bearer sk-test' },
    model: 'gpt-4o-mini',
  }),
});
