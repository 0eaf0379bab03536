import { renderAnthropicError, renderAnthropicErrorPayload } from './render-anthropic-error.ts';
import { renderGeminiError, renderGeminiErrorPayload } from './render-gemini-error.ts';
import { renderOpenAIError } from './render-openai-error.ts';
import type { WireFormat } from './sim-config.ts';
import type { ErrorContext, RenderedError, SimError } from './sim-error.ts';
import type { SseFrame } from './sse-frame.ts';

/** An error in the wire format the request came in. */
export function renderError(format: WireFormat, error: SimError, context: ErrorContext): RenderedError {
  switch (format) {
    case 'openai':
      return renderOpenAIError(error, context);
    case 'azure':
      return renderOpenAIError(error, context, true);
    case 'anthropic':
      return renderAnthropicError(error, context);
    case 'gemini':
      return renderGeminiError(error, context);
  }
}

/**
 * The error event a provider sends inside a 200 stream: OpenAI a `data: {"error":…}` line,
 * Anthropic `event: error` with `overloaded_error`, Gemini a `data:` chunk with an UNAVAILABLE error.
 */
export function renderStreamErrorFrame(format: WireFormat, context: ErrorContext): SseFrame {
  switch (format) {
    case 'openai':
    case 'azure':
      return { data: renderOpenAIError({ kind: 'server_error', status: 500 }, context).body, content: false };
    case 'anthropic':
      return {
        event: 'error',
        data: JSON.stringify(renderAnthropicErrorPayload({ kind: 'overloaded', status: 529 }, context)),
        content: false,
      };
    case 'gemini':
      return {
        data: JSON.stringify(renderGeminiErrorPayload({ kind: 'overloaded', status: 503 }, context)),
        content: false,
      };
  }
}
