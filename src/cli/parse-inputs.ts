import { PipewrightError } from '../core/index.ts';

/**
 * Turns repeated `--input key=value` options into a workflow's input: a value is JSON when it
 * parses as JSON (`n=3`, `tags=["a","b"]`, `ok=true`), otherwise the text as written.
 *
 * @example
 * parseInputs(['brief=Tea for all', 'channels=["email"]']); // { brief: 'Tea for all', channels: ['email'] }
 */
export function parseInputs(pairs: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? '' : pair.slice(0, equals).trim();
    if (key === '')
      throw new PipewrightError({
        code: 'request.invalid',
        message: `--input: expected key=value, got "${pair}"`,
        param: 'input',
      });
    if (Object.hasOwn(input, key))
      throw new PipewrightError({
        code: 'request.invalid',
        message: `--input: "${key}" is given twice`,
        param: key,
      });
    input[key] = parseValue(pair.slice(equals + 1));
  }
  return input;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
