import { runProviderContract } from '../provider-contract.ts';
import {
  anthropicContractFixtures,
  anthropicFixtureNow,
} from './__fixtures__/anthropic-contract-fixtures.ts';
import { createAnthropicAdapter } from './index.ts';

runProviderContract({
  name: 'anthropic',
  createDeployment: (origin) => ({
    id: 'contract-anthropic',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    baseUrl: `${origin}/v1`,
    apiKey: 'sk-ant-test',
  }),
  fixtures: anthropicContractFixtures,
  // A fixed clock, so waits derived from the anthropic-ratelimit-*-reset timestamps are exact.
  adapter: createAnthropicAdapter({ now: () => anthropicFixtureNow }),
});
