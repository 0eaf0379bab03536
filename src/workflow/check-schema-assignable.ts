import type { JsonSchema } from './workflow-definition.ts';

/** The JSON types a schema admits, or undefined when it says nothing (anything goes). */
function typesOf(schema: JsonSchema): Set<string> | undefined {
  const declared = schema.type;
  if (typeof declared === 'string') return new Set([declared]);
  if (Array.isArray(declared))
    return new Set(declared.filter((item): item is string => typeof item === 'string'));
  if ('const' in schema) return new Set([jsonTypeOf(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(jsonTypeOf));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const union = new Set<string>();
      for (const option of options) {
        const types =
          typeof option === 'object' && option !== null ? typesOf(option as JsonSchema) : undefined;
        if (types === undefined) return undefined;
        for (const type of types) union.add(type);
      }
      return union;
    }
  }
  return undefined;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * Whether a value of schema `source` can go where `target` is expected, judged on JSON types,
 * array items and required object properties. Unknown schemas (`{}`) are compatible with
 * anything: the check only reports what is certainly wrong. Returns the mismatch, or null.
 *
 * @example
 * checkSchemaAssignable({ type: 'array', items: { type: 'string' } }, { type: 'string' }); // 'array is not string'
 */
export function checkSchemaAssignable(
  source: JsonSchema | undefined,
  target: JsonSchema | undefined,
  path = '',
): string | null {
  if (source === undefined || target === undefined) return null;
  const sourceTypes = typesOf(source);
  const targetTypes = typesOf(target);
  const at = path === '' ? '' : ` at ${path}`;
  if (sourceTypes !== undefined && targetTypes !== undefined) {
    for (const type of sourceTypes) {
      const fits = targetTypes.has(type) || (type === 'integer' && targetTypes.has('number'));
      if (!fits) return `${[...sourceTypes].join(' | ')} is not ${[...targetTypes].join(' | ')}${at}`;
    }
  }
  if (isObject(source.items) && isObject(target.items)) {
    const problem = checkSchemaAssignable(source.items, target.items, `${path}[]`);
    if (problem !== null) return problem;
  }
  if (isObject(target.properties) && isObject(source.properties)) {
    const required = Array.isArray(target.required)
      ? target.required.filter((item): item is string => typeof item === 'string')
      : [];
    for (const key of required) {
      if (!(key in source.properties) && source.additionalProperties === false)
        return `property ${key} is missing${at}`;
    }
    for (const [key, targetProperty] of Object.entries(target.properties)) {
      const sourceProperty = source.properties[key];
      if (isObject(sourceProperty) && isObject(targetProperty)) {
        const problem = checkSchemaAssignable(
          sourceProperty,
          targetProperty,
          path === '' ? key : `${path}.${key}`,
        );
        if (problem !== null) return problem;
      }
    }
  }
  return null;
}

/** The schema of the value at `path` inside a value of `schema`; undefined when unknown. */
export function schemaAtPath(
  schema: JsonSchema | undefined,
  path: ReadonlyArray<string | number>,
): JsonSchema | undefined | string {
  let current = schema;
  for (const segment of path) {
    if (current === undefined) return undefined;
    const types = typesOf(current);
    if (typeof segment === 'number') {
      if (types !== undefined && !types.has('array'))
        return `cannot index [${segment}] into ${[...types].join(' | ')}`;
      current = isObject(current.items) ? current.items : undefined;
    } else {
      if (types !== undefined && !types.has('object'))
        return `cannot read .${segment} of ${[...types].join(' | ')}`;
      const properties = isObject(current.properties) ? current.properties : undefined;
      const property = properties?.[segment];
      if (isObject(property)) current = property;
      else if (properties !== undefined && current.additionalProperties === false)
        return `no property ${segment}`;
      else current = isObject(current.additionalProperties) ? current.additionalProperties : undefined;
    }
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
