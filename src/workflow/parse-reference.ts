/** A parsed `$…` reference. `path` is the part after the root (`brand.colors[0]` → ['colors', 0]). */
export type Reference =
  | { kind: 'context'; field: string; path: Array<string | number>; text: string }
  | { kind: 'node'; node: string; path: Array<string | number>; text: string }
  | { kind: 'item'; path: Array<string | number>; text: string }
  | { kind: 'index'; path: Array<string | number>; text: string }
  | { kind: 'output'; path: Array<string | number>; text: string };

/**
 * Parses `$context.brief.title`, `$nodes.copy.output[0]`, `$item`, `$index`, `$output.x`; returns a
 * problem message for anything else.
 *
 * @example
 * parseReference('$context.brand.colors[0]'); // { kind: 'context', field: 'brand', path: ['colors', 0], … }
 */
export function parseReference(text: string): Reference | string {
  const head = /^\$([A-Za-z_][\w-]*)/.exec(text);
  if (head === null)
    return `"${text}" is not a reference (expected $context.FIELD, $nodes.ID.output, $item, $index or $output)`;
  const segments: Array<string | number> = [];
  let rest = text.slice(head[0].length);
  while (rest.length > 0) {
    const match = /^(?:\.([A-Za-z_][\w-]*)|\[(\d+)\])/.exec(rest);
    if (match === null) return `"${text}": cannot read "${rest}" (use .name or [index])`;
    segments.push(match[1] ?? Number(match[2]));
    rest = rest.slice(match[0].length);
  }
  switch (head[1] ?? '') {
    case 'context': {
      const [field, ...path] = segments;
      if (typeof field !== 'string') return `"${text}": name a context field ($context.FIELD)`;
      return { kind: 'context', field, path, text };
    }
    case 'nodes': {
      const [node, output, ...path] = segments;
      if (typeof node !== 'string' || output !== 'output') return `"${text}": use $nodes.ID.output`;
      return { kind: 'node', node, path, text };
    }
    case 'item':
      return { kind: 'item', path: segments, text };
    case 'index':
      if (segments.length > 0) return `"${text}": $index has no fields`;
      return { kind: 'index', path: segments, text };
    case 'output':
      return { kind: 'output', path: segments, text };
    default:
      return `"${text}": unknown root "$${head[1]}" (expected $context, $nodes, $item, $index or $output)`;
  }
}

/** True for a string that is a reference (starts with `$` but not `$$`). */
export function isReference(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('$') && !value.startsWith('$$');
}

/** Every reference in a binding, with its path inside the binding (`input.audience`). */
export function collectReferences(binding: unknown, path: string): Array<{ text: string; path: string }> {
  const found: Array<{ text: string; path: string }> = [];
  walk(binding, path, (text, at) => found.push({ text, path: at }));
  return found;
}

function walk(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (isReference(value)) visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}[${index}]`, visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, visit);
  }
}

/** Resolves a binding, replacing each reference with `lookup(reference)` and unescaping `$$`. */
export function resolveBinding(binding: unknown, lookup: (reference: Reference) => unknown): unknown {
  if (typeof binding === 'string') {
    if (binding.startsWith('$$')) return binding.slice(1);
    if (binding.startsWith('$')) {
      const reference = parseReference(binding);
      if (typeof reference === 'string') throw new Error(reference);
      return lookup(reference);
    }
    return binding;
  }
  if (Array.isArray(binding)) return binding.map((item) => resolveBinding(item, lookup));
  if (binding !== null && typeof binding === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(binding)) out[key] = resolveBinding(item, lookup);
    return out;
  }
  return binding;
}

/** Reads `path` inside a value; undefined when a step is missing. */
export function readPath(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}
