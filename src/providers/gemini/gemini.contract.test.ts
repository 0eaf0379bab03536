import { runProviderContract } from '../provider-contract.ts';
import { geminiContractFixtures } from './__fixtures__/gemini-contract-fixtures.ts';

runProviderContract({
  name: 'gemini',
  createDeployment: (origin) => ({
    id: 'contract-gemini',
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    baseUrl: `${origin}/v1beta`,
    apiKey: 'AIza-test',
  }),
  fixtures: geminiContractFixtures,
});
