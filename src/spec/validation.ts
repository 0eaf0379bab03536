import type { z } from 'zod';
import { InvalidRequestError } from '../core/index.ts';

/** `['messages', 2, 'content']` → `messages[2].content`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * Parses `value` with `schema`, or throws an InvalidRequestError naming the first bad field
 * (all problems are listed in `details.issues`).
 */
export function parseWithSchema<T>(
  schema: z.ZodType<T>,
  value: unknown,
  options: { prefix?: string; what?: string } = {},
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    // An unknown key is named by its own path, not by its parent's.
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const path = formatPath([
      ...(options.prefix === undefined ? [] : [options.prefix]),
      ...issue.path,
      ...(key === undefined ? [] : [key]),
    ]);
    return { path, message: issue.message };
  });
  const first = issues[0] ?? { path: '', message: 'invalid value' };
  const where = first.path === '' ? (options.what ?? 'request') : first.path;
  const param = first.path === '' ? options.what : first.path;
  throw new InvalidRequestError({
    message: `${where}: ${first.message}`,
    ...(param === undefined ? {} : { param }),
    details: { issues },
  });
}
