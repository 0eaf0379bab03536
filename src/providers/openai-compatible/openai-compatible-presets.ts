/** How a server expects its key. */
export type OpenAICompatibleAuthStyle = 'bearer' | 'none';

export interface OpenAICompatiblePreset {
  /** The API root, without a trailing slash. */
  baseUrl: string;
  /** `bearer`: `Authorization: Bearer {apiKey}`; `none`: local servers that need no key (one is sent if configured). */
  authStyle: OpenAICompatibleAuthStyle;
  /** Whether the server accepts `stream_options.include_usage` (Mistral rejects unknown fields). */
  supportsStreamUsage: boolean;
  /** Documentation of the server's OpenAI-compatible API. */
  docs: string;
}

/**
 * Named OpenAI-compatible servers with their default base URL and auth style, for configs
 * that say `preset: ollama` instead of spelling out the URL.
 *
 * @example
 * openAICompatiblePresets.ollama.baseUrl; // 'http://127.0.0.1:11434/v1'
 */
export const openAICompatiblePresets = {
  ollama: {
    baseUrl: 'http://127.0.0.1:11434/v1',
    authStyle: 'none',
    supportsStreamUsage: true,
    docs: 'https://github.com/ollama/ollama/blob/main/docs/openai.md',
  },
  vllm: {
    baseUrl: 'http://127.0.0.1:8000/v1',
    authStyle: 'none',
    supportsStreamUsage: true,
    docs: 'https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html',
  },
  'lm-studio': {
    baseUrl: 'http://127.0.0.1:1234/v1',
    authStyle: 'none',
    supportsStreamUsage: true,
    docs: 'https://lmstudio.ai/docs/app/api/endpoints/openai',
  },
  groq: {
    baseUrl: 'https://api.groq.com/openai/v1',
    authStyle: 'bearer',
    supportsStreamUsage: true,
    docs: 'https://console.groq.com/docs/openai',
  },
  together: {
    baseUrl: 'https://api.together.xyz/v1',
    authStyle: 'bearer',
    supportsStreamUsage: true,
    docs: 'https://docs.together.ai/docs/openai-api-compatibility',
  },
  mistral: {
    baseUrl: 'https://api.mistral.ai/v1',
    authStyle: 'bearer',
    supportsStreamUsage: false,
    docs: 'https://docs.mistral.ai/api/',
  },
  deepseek: {
    baseUrl: 'https://api.deepseek.com/v1',
    authStyle: 'bearer',
    supportsStreamUsage: true,
    docs: 'https://api-docs.deepseek.com/',
  },
  openrouter: {
    baseUrl: 'https://openrouter.ai/api/v1',
    authStyle: 'bearer',
    supportsStreamUsage: true,
    docs: 'https://openrouter.ai/docs/api-reference/overview',
  },
} as const satisfies Record<string, OpenAICompatiblePreset>;

export type OpenAICompatiblePresetName = keyof typeof openAICompatiblePresets;

/** The preset names, for config validation and CLI help. */
export const openAICompatiblePresetNames = Object.keys(
  openAICompatiblePresets,
) as OpenAICompatiblePresetName[];

/**
 * The preset a base URL belongs to (by host, or by the default local port), if any.
 *
 * @example
 * findOpenAICompatiblePreset('https://api.mistral.ai/v1')?.name; // 'mistral'
 */
export function findOpenAICompatiblePreset(
  baseUrl: string,
): (OpenAICompatiblePreset & { name: OpenAICompatiblePresetName }) | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  for (const name of openAICompatiblePresetNames) {
    const preset: OpenAICompatiblePreset = openAICompatiblePresets[name];
    const presetUrl = new URL(preset.baseUrl);
    const local = presetUrl.hostname === '127.0.0.1';
    const sameHost = url.hostname === presetUrl.hostname || (local && url.hostname === 'localhost');
    if (sameHost && (!local || url.port === presetUrl.port)) return { ...preset, name };
  }
  return undefined;
}
