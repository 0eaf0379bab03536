import type { IncomingHttpHeaders } from 'node:http';
import type { SimRoute } from './route-sim-request.ts';
import type { SimError } from './sim-error.ts';

/**
 * Checks the credentials the way each provider does: any non-empty key passes, except keys
 * starting with `invalid`, which get the provider's "bad key" error (OpenAI and Anthropic 401;
 * Gemini, like the real API, 400 `API_KEY_INVALID`, and 403 when the key is missing).
 * Anthropic also requires the `anthropic-version` header.
 */
export function authenticateRequest(route: SimRoute, headers: IncomingHttpHeaders): SimError | undefined {
  const key = readKey(route, headers);
  if (key === undefined || key === '') {
    return route.format === 'gemini'
      ? { kind: 'missing_key', status: 403 }
      : { kind: 'missing_key', status: 401 };
  }
  if (key.startsWith('invalid'))
    return { kind: 'invalid_key', status: route.format === 'gemini' ? 400 : 401, apiKey: key };
  if (route.format === 'anthropic' && !header(headers, 'anthropic-version')) {
    return { kind: 'invalid_request', status: 400, message: 'anthropic-version: header is required' };
  }
  return undefined;
}

function readKey(route: SimRoute, headers: IncomingHttpHeaders): string | undefined {
  switch (route.format) {
    case 'openai':
      return bearer(headers);
    case 'azure':
      return header(headers, 'api-key') || bearer(headers);
    case 'anthropic':
      return header(headers, 'x-api-key');
    case 'gemini':
      return header(headers, 'x-goog-api-key') || (route.query.get('key') ?? undefined);
  }
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const value = header(headers, 'authorization');
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(.*)$/i.exec(value);
  return match === null ? undefined : (match[1] ?? '').trim();
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
