import { z } from 'zod';
import { createDeploymentOptionsReader } from '../provider-definition.ts';

const azureOptionsShape = {
  /** The `api-version` query parameter (`2024-10-21`). The adapter defaults to `defaultAzureApiVersion`; configs must say it. */
  apiVersion: z.string().min(1).optional(),
  /** The deployment name in the URL (default: the deployment's `model`). */
  deploymentName: z.string().min(1).optional(),
};

/** What an Azure OpenAI deployment's `options` may hold; a configured deployment names its `apiVersion`. */
export const azureOpenAIOptionsSchema = z.strictObject({
  ...azureOptionsShape,
  apiVersion: z
    .string({
      error: (issue) =>
        issue.input === undefined ? 'is required for azure deployments' : 'must be a string',
    })
    .min(1),
});

const azureOptionsReaderSchema = z.object(azureOptionsShape);

export type AzureOpenAIOptions = z.infer<typeof azureOptionsReaderSchema>;

/** The options of an Azure OpenAI deployment, as its adapter reads them. */
export const readAzureOpenAIOptions = createDeploymentOptionsReader('azure', azureOptionsReaderSchema);
