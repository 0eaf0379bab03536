import type { EndpointKind, WireFormat } from './sim-config.ts';

/** Where a request goes. */
export interface SimRoute {
  format: WireFormat;
  endpoint: EndpointKind;
  /** The stats label: `openai.chat`, `anthropic.messages`, `gemini.streamGenerateContent`… */
  operation: string;
  /** The model named in the URL (Gemini, Azure deployments). */
  model?: string;
  /** Gemini: streaming is chosen by the URL. */
  stream?: boolean;
  /** Gemini: `:batchEmbedContents` rather than `:embedContent`. */
  batch?: boolean;
  query: URLSearchParams;
}

const geminiPath =
  /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;
const azurePath = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings|images\/generations)$/;

/**
 * Maps a method and URL to a wire format and endpoint. `GET /v1/models` answers in Anthropic's
 * shape when the request carries `anthropic-version`, in OpenAI's otherwise.
 */
export function routeSimRequest(
  method: string,
  url: string,
  anthropicVersion: boolean,
): SimRoute | undefined {
  const question = url.indexOf('?');
  const path = question === -1 ? url : url.slice(0, question);
  const query = new URLSearchParams(question === -1 ? '' : url.slice(question + 1));
  if (method === 'POST') {
    switch (path) {
      case '/v1/chat/completions':
        return { format: 'openai', endpoint: 'chat', operation: 'openai.chat', query };
      case '/v1/embeddings':
        return { format: 'openai', endpoint: 'embeddings', operation: 'openai.embeddings', query };
      case '/v1/images/generations':
        return { format: 'openai', endpoint: 'images', operation: 'openai.images', query };
      case '/v1/messages':
        return { format: 'anthropic', endpoint: 'chat', operation: 'anthropic.messages', query };
    }
    const gemini = geminiPath.exec(path);
    if (gemini !== null) {
      const [, , model = '', method = ''] = gemini;
      const embed = method === 'embedContent' || method === 'batchEmbedContents';
      return {
        format: 'gemini',
        endpoint: embed ? 'embeddings' : 'chat',
        operation: `gemini.${method}`,
        model: decodeURIComponent(model),
        stream: method === 'streamGenerateContent',
        batch: method === 'batchEmbedContents',
        query,
      };
    }
    const azure = azurePath.exec(path);
    if (azure !== null) {
      const [, deployment = '', kind = ''] = azure;
      const endpoint: EndpointKind =
        kind === 'embeddings' ? 'embeddings' : kind === 'chat/completions' ? 'chat' : 'images';
      return {
        format: 'azure',
        endpoint,
        operation: `azure.${endpoint}`,
        model: decodeURIComponent(deployment),
        query,
      };
    }
    return undefined;
  }
  if (method === 'GET') {
    if (path === '/v1/models') {
      return anthropicVersion
        ? { format: 'anthropic', endpoint: 'models', operation: 'anthropic.models', query }
        : { format: 'openai', endpoint: 'models', operation: 'openai.models', query };
    }
    if (path === '/v1beta/models')
      return { format: 'gemini', endpoint: 'models', operation: 'gemini.models', query };
  }
  return undefined;
}

/** The format to answer an unroutable request in, guessed from its path. */
export function guessFormat(url: string): WireFormat {
  if (url.startsWith('/v1beta') || url.includes(':generateContent')) return 'gemini';
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/openai/')) return 'azure';
  return 'openai';
}
