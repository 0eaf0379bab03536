import { isRecord } from '../shared/index.ts';

export interface GeminiSchemaOptions {
  /**
   * Adds `propertyOrdering` (the order the properties were declared in) to every object.
   * Gemini otherwise emits structured output in alphabetical key order.
   */
  keepPropertyOrder?: boolean;
}

// Gemini's Schema is an OpenAPI 3.0 subset; every other JSON Schema keyword (additionalProperties,
// $schema, $defs, const, not, patternProperties, default, examples…) is rejected with a 400.
const copiedKeys = [
  'title',
  'description',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minProperties',
  'maxProperties',
];

// Formats Gemini accepts, per type; any other format is rejected, so it is dropped.
const allowedFormats: Record<string, ReadonlySet<string>> = {
  string: new Set(['enum', 'date-time']),
  number: new Set(['float', 'double']),
  integer: new Set(['int32', 'int64']),
};

const maxRefDepth = 8;

/**
 * Converts a JSON Schema (as written for OpenAI tools and `response_format`) to the schema
 * subset Gemini accepts: unsupported keywords removed, `type: [x, 'null']` and `anyOf` with a
 * null branch turned into `nullable`, `oneOf` into `anyOf`, local `$ref`s inlined (recursion
 * stops after a few levels with a plain object), `const` into a one-value `enum`, non-string
 * enums and unknown formats dropped, `required` limited to declared properties and empty
 * `properties` removed (Gemini rejects an empty properties map).
 *
 * @example
 * convertToGeminiSchema({ type: 'object', additionalProperties: false, properties: { n: { type: ['integer', 'null'] } }, required: ['n'] });
 * // { type: 'object', properties: { n: { type: 'integer', nullable: true } }, required: ['n'] }
 */
export function convertToGeminiSchema(
  schema: Record<string, unknown>,
  options: GeminiSchemaOptions = {},
): Record<string, unknown> {
  const definitions = { ...readRecord(schema.definitions), ...readRecord(schema.$defs) };
  return convertNode(schema, {
    definitions,
    keepPropertyOrder: options.keepPropertyOrder === true,
    depth: 0,
  });
}

interface ConvertState {
  definitions: Record<string, unknown>;
  keepPropertyOrder: boolean;
  /** How many `$ref`s deep this node is. */
  depth: number;
}

function convertNode(node: unknown, state: ConvertState): Record<string, unknown> {
  if (!isRecord(node)) return {};
  if (typeof node.$ref === 'string') return convertRef(node.$ref, node, state);

  const out: Record<string, unknown> = {};
  for (const key of copiedKeys) if (node[key] !== undefined) out[key] = node[key];

  applyType(node.type, out);
  if (node.nullable === true) out.nullable = true;

  const enumValues = node.const !== undefined ? [node.const] : node.enum;
  if (
    Array.isArray(enumValues) &&
    enumValues.length > 0 &&
    enumValues.every((value) => typeof value === 'string')
  ) {
    out.enum = enumValues;
    out.type ??= 'string';
  }

  if (
    typeof node.format === 'string' &&
    typeof out.type === 'string' &&
    allowedFormats[out.type]?.has(node.format) === true
  ) {
    out.format = node.format;
  }

  if (isRecord(node.properties)) {
    const properties: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(node.properties)) properties[name] = convertNode(value, state);
    const names = Object.keys(properties);
    if (names.length > 0) {
      out.properties = properties;
      if (state.keepPropertyOrder && names.length > 1) out.propertyOrdering = names;
    }
    if (Array.isArray(node.required)) {
      const required = node.required.filter(
        (name): name is string => typeof name === 'string' && name in properties,
      );
      if (required.length > 0) out.required = required;
    }
  }

  if (node.items !== undefined) {
    // Tuple schemas (items as an array) have no Gemini equivalent: the first item type is kept.
    const items = Array.isArray(node.items) ? node.items[0] : node.items;
    if (items !== undefined) out.items = convertNode(items, state);
  }

  const alternatives = Array.isArray(node.anyOf)
    ? node.anyOf
    : Array.isArray(node.oneOf)
      ? node.oneOf
      : undefined;
  if (alternatives !== undefined) applyAlternatives(alternatives, out, state);

  if (Array.isArray(node.allOf)) {
    for (const part of node.allOf) mergeInto(out, convertNode(part, state));
  }
  return out;
}

function applyType(type: unknown, out: Record<string, unknown>): void {
  if (typeof type === 'string') {
    out.type = type;
    return;
  }
  if (!Array.isArray(type)) return;
  const types = type.filter((value): value is string => typeof value === 'string');
  const nonNull = types.filter((value) => value !== 'null');
  if (nonNull.length < types.length) out.nullable = true;
  if (nonNull.length === 1) out.type = nonNull[0];
  else if (nonNull.length > 1) out.anyOf = nonNull.map((value) => ({ type: value }));
}

function applyAlternatives(alternatives: unknown[], out: Record<string, unknown>, state: ConvertState): void {
  const isNullBranch = (value: unknown) => isRecord(value) && value.type === 'null';
  const nonNull = alternatives.filter((value) => !isNullBranch(value));
  if (nonNull.length < alternatives.length) out.nullable = true;
  if (nonNull.length === 1) mergeInto(out, convertNode(nonNull[0], state));
  else if (nonNull.length > 1) out.anyOf = nonNull.map((value) => convertNode(value, state));
}

function convertRef(
  ref: string,
  node: Record<string, unknown>,
  state: ConvertState,
): Record<string, unknown> {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match?.[1] === undefined ? undefined : state.definitions[decodePointer(match[1])];
  // An unknown or remote reference, or a recursive one past the limit, becomes an open object.
  const resolved =
    target === undefined || state.depth >= maxRefDepth
      ? { type: 'object' }
      : convertNode(target, { ...state, depth: state.depth + 1 });
  if (typeof node.description === 'string') resolved.description = node.description;
  return resolved;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === 'properties' && isRecord(target.properties) && isRecord(value))
      target.properties = { ...target.properties, ...value };
    else if (key === 'required' && Array.isArray(target.required) && Array.isArray(value))
      target.required = [...new Set([...target.required, ...value])];
    else if (key === 'nullable') target.nullable = target.nullable === true || value === true;
    else target[key] ??= value;
  }
}

function readRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function decodePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
