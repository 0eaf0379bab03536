import { z } from 'zod';
import { createOpenAIAdapter } from '../openai/index.ts';
import { createDeploymentOptionsReader, type ProviderDefinition } from '../provider-definition.ts';

/** The wire formats a `sim` deployment can be answered in. */
export const simDeploymentWireFormats = ['openai', 'anthropic', 'gemini'] as const;
export type SimDeploymentWireFormat = (typeof simDeploymentWireFormats)[number];

const simOptionsShape = {
  /** Which wire format the sim answers in: `openai` (default), `anthropic` or `gemini`. */
  wireFormat: z.enum(simDeploymentWireFormats).optional(),
};

const readSimOptions = createDeploymentOptionsReader('sim', z.object(simOptionsShape));

// Labelled as the sim in errors and telemetry; strict like OpenAI so cut streams are caught.
const simOpenAIAdapter = createOpenAIAdapter({ name: 'sim' });

/**
 * `provider: sim`: the simulated provider (`pipewright sim`), answered by the adapter of its
 * `options.wireFormat`. The OpenAI dialect runs under the name `sim`, strict like OpenAI so cut
 * streams are caught; the Anthropic and Gemini dialects use those providers' adapters.
 *
 * @example
 * simProviderDefinition.legacySettings?.wireFormat; // 'wireFormat'
 */
export const simProviderDefinition: ProviderDefinition = {
  name: 'sim',
  description: 'The simulated provider (pipewright sim), always labelled as simulated',
  optionsSchema: z.strictObject(simOptionsShape),
  legacySettings: { wireFormat: 'wireFormat' },
  adapter: simOpenAIAdapter,
  selectAdapter(deployment, adapterOf) {
    const wireFormat = readSimOptions(deployment).wireFormat ?? 'openai';
    return wireFormat === 'openai' ? simOpenAIAdapter : adapterOf(wireFormat);
  },
};
