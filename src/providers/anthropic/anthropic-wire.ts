/**
 * The parts of the Anthropic Messages API wire format the adapter writes
 * (https://docs.anthropic.com/en/api/messages). What it reads is checked by the tolerant
 * schemas of anthropic-api-schemas.ts instead, because upstreams (and proxies in front of them) vary.
 */

export const anthropicProvider = 'anthropic';

/** Used when neither the deployment nor the request names an API version. */
export const defaultAnthropicVersion = '2023-06-01';

/** Anthropic requires `max_tokens`; used when the request and the deployment set none. */
export const defaultAnthropicMaxTokens = 4096;

/**
 * The forced tool through which `response_format` JSON is obtained (see
 * convert-to-anthropic-tools.ts). The name is reserved: a user tool may not use it.
 */
export const jsonOutputToolName = 'json_output';

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | AnthropicTextBlock[];
}

export type AnthropicContentBlock =
  AnthropicTextBlock | AnthropicImageBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | AnthropicTextBlock[];
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stream?: boolean;
}
