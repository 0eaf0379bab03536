/**
 * The format-neutral shape of a chat request and of the sim's answer to it. Each wire format
 * converts its request into a SimPrompt and renders a SimCompletion back, so the same
 * conversation gets the same answer whichever API it came through.
 */

export type JsonSchema = Record<string, unknown>;

export interface SimToolCall {
  /** A deterministic key the renderers turn into `call_…` / `toolu_…` ids. */
  key: string;
  name: string;
  /** The arguments as a JSON object. */
  arguments: Record<string, unknown>;
}

export interface SimMessage {
  role: 'user' | 'assistant' | 'tool';
  /** The text parts, joined. */
  text: string;
  imageCount: number;
  /** Tool calls made by an assistant turn. */
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  /** Tool results carried by this turn (OpenAI `tool` messages, Anthropic `tool_result`, Gemini `functionResponse`). */
  toolResults: Array<{ callId: string; name: string; content: string }>;
}

export interface SimTool {
  name: string;
  description: string;
  parameters: JsonSchema;
}

export type SimToolChoice = { mode: 'auto' | 'none' | 'required' } | { mode: 'named'; name: string };

export type SimOutputFormat =
  { type: 'text' } | { type: 'json' } | { type: 'json_schema'; schema: JsonSchema };

export interface SimPrompt {
  model: string;
  system: string;
  messages: SimMessage[];
  tools: SimTool[];
  toolChoice: SimToolChoice;
  output: SimOutputFormat;
  maxTokens: number | undefined;
  stop: string[];
  /** Number of alternative answers (OpenAI `n`, Gemini `candidateCount`). */
  n: number;
}

export type SimFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface SimChoice {
  text: string;
  toolCalls: SimToolCall[];
  /** A short sentence Anthropic-style models say before calling a tool. */
  toolPreamble: string;
  finishReason: SimFinishReason;
  /** The stop sequence that ended the text, when one did. */
  stopSequence: string | undefined;
  outputTokens: number;
}

export interface SimCompletion {
  choices: SimChoice[];
  inputTokens: number;
  outputTokens: number;
}
