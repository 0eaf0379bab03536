import { z } from 'zod';
import type { ProviderDefinition } from '../provider-definition.ts';
import { geminiAdapter } from './create-gemini-adapter.ts';

/**
 * `provider: gemini`: the Gemini API (Google AI Studio). It has no options of its own.
 *
 * @example
 * geminiProviderDefinition.adapter.name; // 'gemini'
 */
export const geminiProviderDefinition: ProviderDefinition = {
  name: 'gemini',
  description: 'Google Gemini API (AI Studio)',
  optionsSchema: z.strictObject({}),
  adapter: geminiAdapter,
};
