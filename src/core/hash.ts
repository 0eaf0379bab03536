import { createHash } from 'node:crypto';
import { InvalidRequestError } from './errors.ts';

/**
 * The deepest nesting of objects and arrays that `stableStringify` and `hashValue` accept. Far
 * below what exhausts the stack (V8's own `JSON.stringify` gives up at about 4,000 levels), and
 * far above any real request or workflow value; the gateway refuses bodies deeper than
 * `server.maxJsonDepth` (64) before they get here.
 */
export const maxStableNesting = 1_000;

/**
 * JSON with object keys sorted, so equal values always serialise the same. A value nested deeper
 * than {@link maxStableNesting} is a `request.invalid` error, never a stack overflow.
 *
 * @example
 * stableStringify({ b: 1, a: [2] }); // '{"a":[2],"b":1}'
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value, 0));
}

function sortKeys(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxStableNesting) {
    throw new InvalidRequestError({
      message: `value nested more than ${maxStableNesting} levels deep (objects and arrays within one another)`,
      details: { maxDepth: maxStableNesting },
    });
  }
  if (Array.isArray(value)) return value.map((item: unknown) => sortKeys(item, depth + 1));
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) sorted[key] = sortKeys(item, depth + 1);
  }
  return sorted;
}

/** SHA-256 hex digest of a value's stable JSON form. */
export function hashValue(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}
