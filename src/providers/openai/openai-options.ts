import { z } from 'zod';
import { createDeploymentOptionsReader } from '../provider-definition.ts';

const openAIOptionsShape = {
  /** The `OpenAI-Organization` header: the organization the calls are billed to. */
  organization: z.string().min(1).optional(),
  /** The `OpenAI-Project` header: the project the calls are billed to. */
  project: z.string().min(1).optional(),
};

/** What an OpenAI deployment's `options` may hold (see docs/configuration.md). */
export const openAIOptionsSchema = z.strictObject(openAIOptionsShape);

export type OpenAIOptions = z.infer<typeof openAIOptionsSchema>;

/** The options of an OpenAI deployment, as its adapter reads them. */
export const readOpenAIOptions = createDeploymentOptionsReader('openai', z.object(openAIOptionsShape));

/**
 * The organization and project headers an OpenAI deployment's options ask for.
 *
 * @example
 * createOpenAIAccountHeaders({ id: 'oa', provider: 'openai', model: 'gpt-4o', baseUrl: 'https://api.openai.com/v1', options: { project: 'proj_1' } });
 * // { 'openai-project': 'proj_1' }
 */
export function createOpenAIAccountHeaders(
  deployment: Parameters<typeof readOpenAIOptions>[0],
): Record<string, string> {
  const { organization, project } = readOpenAIOptions(deployment);
  const headers: Record<string, string> = {};
  if (organization !== undefined) headers['openai-organization'] = organization;
  if (project !== undefined) headers['openai-project'] = project;
  return headers;
}
