import { runProviderContract } from '../provider-contract.ts';
import { createAzureContractFixtures } from './__fixtures__/azure-contract-fixtures.ts';

runProviderContract({
  name: 'azure',
  createDeployment: (origin) => ({
    id: 'contract-azure',
    provider: 'azure',
    model: 'gpt-4o',
    options: { apiVersion: '2024-10-21', deploymentName: 'gpt4o-prod' },
    baseUrl: origin,
    apiKey: 'azure-key',
  }),
  fixtures: createAzureContractFixtures({
    chatPath: '/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21',
    model: 'gpt-4o',
    apiKey: 'azure-key',
  }),
});
