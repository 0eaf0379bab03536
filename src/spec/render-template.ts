import { InvalidRequestError } from '../core/index.ts';

const placeholder = /\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*|\[\d+\])*)\s*\}\}/g;

/**
 * Fills `{{input.topic}}`, `{{context.brand.name}}`, `{{input.items[0]}}` from a scope object.
 * Objects and arrays render as JSON. A missing value is an error naming it (a silently empty
 * prompt costs money and produces nonsense).
 *
 * @example
 * renderTemplate('Write about {{input.topic}}', { input: { topic: 'tea' } }); // 'Write about tea'
 */
export function renderTemplate(template: string, scope: Record<string, unknown>): string {
  return template.replace(placeholder, (_match, path: string) => {
    const value = lookup(scope, path);
    if (value === undefined)
      throw new InvalidRequestError({ message: `template value ${path} is missing`, param: path });
    if (typeof value === 'string') return value;
    return JSON.stringify(value);
  });
}

function lookup(scope: unknown, path: string): unknown {
  const segments = path.split(/\.|\[(\d+)\]/).filter((segment) => segment !== undefined && segment !== '');
  let current: unknown = scope;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
