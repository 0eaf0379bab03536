import { ProviderError } from '../../core/index.ts';

/** Who was talking, so errors name the provider and deployment. */
export interface JsonBodySource {
  provider: string;
  deployment?: string;
  upstreamStatus?: number;
  /** What was being parsed, for the message: `response body`, `stream chunk`. */
  what?: string;
}

/**
 * Parses an upstream body as JSON, or throws a `malformed_response` ProviderError that names
 * the provider and shows the start of the offending text.
 *
 * @example
 * const body = parseJsonBody(text, { provider: 'openai', deployment: 'gpt4o-eu' });
 */
export function parseJsonBody(text: string, source: JsonBodySource): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw createMalformedResponseError(
      source,
      `${source.what ?? 'response body'} is not valid JSON: ${previewText(text)}`,
      error,
    );
  }
}

/**
 * Parses JSON without throwing: undefined when the text is not JSON. For error bodies, which
 * may be HTML from a proxy or empty.
 *
 * @example
 * tryParseJson('{"error":{}}'); // { error: {} }
 * tryParseJson('<html>'); // undefined
 */
export function tryParseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A `malformed_response` ProviderError naming the provider.
 *
 * @example
 * throw createMalformedResponseError({ provider: 'openai' }, 'choices: expected an array');
 */
export function createMalformedResponseError(
  source: JsonBodySource,
  detail: string,
  cause?: unknown,
): ProviderError {
  return new ProviderError({
    kind: 'malformed_response',
    message: `${source.provider} returned a malformed response: ${detail}`,
    provider: source.provider,
    ...(source.deployment === undefined ? {} : { deployment: source.deployment }),
    ...(source.upstreamStatus === undefined ? {} : { upstreamStatus: source.upstreamStatus }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The first characters of a text, on one line, for error messages. */
export function previewText(text: string, length = 120): string {
  if (text === '') return '(empty)';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > length ? `${JSON.stringify(flat.slice(0, length))}…` : JSON.stringify(flat);
}

/** Narrowing helper for parsed JSON. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
