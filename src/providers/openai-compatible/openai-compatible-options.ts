import { z } from 'zod';
import { createDeploymentOptionsReader } from '../provider-definition.ts';

const openAICompatibleOptionsShape = {
  /**
   * Whether the server accepts `stream_options.include_usage` (the usage of a stream). Default:
   * what the preset of the base URL says (Mistral does not), else true.
   */
  streamUsage: z.boolean().optional(),
};

/** What an OpenAI-compatible deployment's `options` may hold (see docs/configuration.md). */
export const openAICompatibleOptionsSchema = z.strictObject(openAICompatibleOptionsShape);

export type OpenAICompatibleOptions = z.infer<typeof openAICompatibleOptionsSchema>;

/** The options of an OpenAI-compatible deployment, as its adapter reads them. */
export const readOpenAICompatibleOptions = createDeploymentOptionsReader(
  'openai-compatible',
  z.object(openAICompatibleOptionsShape),
);
