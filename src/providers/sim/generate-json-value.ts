import { deriveToken, type Random } from './create-random.ts';
import type { PromptTerms } from './extract-keywords.ts';
import type { JsonSchema } from './sim-prompt.ts';

/** What generated values draw on. */
export interface JsonValueContext {
  terms: PromptTerms;
  random: Random;
  /** A sentence answering the prompt, for long free-text fields (`summary`, `answer`…). */
  answer: string;
}

/** Past this depth, recursive schemas get only what they require. */
const maxDepth = 6;

/**
 * A value valid against a JSON schema (types, required, enum, const, min/max, minItems/maxItems,
 * uniqueItems, formats, nested objects and arrays, `$ref` to `$defs`, anyOf/oneOf/allOf), with
 * strings and numbers taken from the prompt where the property name suggests it: a `city` gets
 * a place named in the prompt, a `summary` an answer sentence, a `count` a number from the prompt.
 * Gemini's OpenAPI-style schemas (`type: "OBJECT"`) are understood too. `pattern` is not.
 *
 * @example
 * generateJsonValue({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, context);
 * // { city: 'Paris' } for "What is the weather in Paris?"
 */
export function generateJsonValue(schema: unknown, context: JsonValueContext): unknown {
  const root = isObject(schema) ? schema : {};
  return generate(root, { root, context, depth: 0 }, '', 0);
}

interface State {
  root: JsonSchema;
  context: JsonValueContext;
  depth: number;
}

function generate(schema: unknown, state: State, name: string, index: number): unknown {
  if (schema === true || schema === undefined) return stringFor(name, {}, state, index);
  if (!isObject(schema)) return null;
  const resolved = resolve(schema, state.root);
  if ('const' in resolved) return resolved['const'];
  if (Array.isArray(resolved['enum']) && resolved['enum'].length > 0)
    return pickEnum(resolved['enum'], state);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = resolved[key];
    if (Array.isArray(options) && options.length > 0) {
      const chosen = options.find((option) => !isNullSchema(option, state.root)) ?? options[0];
      return generate(mergeSiblings(resolved, key, chosen), state, name, index);
    }
  }
  if (Array.isArray(resolved['allOf'])) return generate(mergeAllOf(resolved, state.root), state, name, index);
  switch (typeOf(resolved)) {
    case 'object':
      return objectFor(resolved, state);
    case 'array':
      return arrayFor(resolved, state, name);
    case 'integer':
      return numberFor(name, resolved, state, true);
    case 'number':
      return numberFor(name, resolved, state, false);
    case 'boolean':
      return state.context.random.next() < 0.5;
    case 'null':
      return null;
    default:
      return stringFor(name, resolved, state, index);
  }
}

function objectFor(schema: JsonSchema, state: State): Record<string, unknown> {
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required'])
    ? schema['required'].filter((key): key is string => typeof key === 'string')
    : [];
  const ordering = Array.isArray(schema['propertyOrdering'])
    ? schema['propertyOrdering'].filter((key): key is string => typeof key === 'string')
    : [];
  const keys = [...new Set([...ordering, ...Object.keys(properties), ...required])];
  const deep = state.depth >= maxDepth;
  const inner: State = { ...state, depth: state.depth + 1 };
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (deep && !required.includes(key)) continue;
    out[key] = generate(properties[key], inner, key, 0);
  }
  return out;
}

function arrayFor(schema: JsonSchema, state: State, name: string): unknown[] {
  const min = nonNegative(schema['minItems']) ?? 0;
  const max = nonNegative(schema['maxItems']) ?? Number.POSITIVE_INFINITY;
  const inner: State = { ...state, depth: state.depth + 1 };
  if (Array.isArray(schema['prefixItems'])) {
    return schema['prefixItems'].map((item, index) => generate(item, inner, name, index));
  }
  const keywordCount = state.context.terms.keywords.length;
  const wanted = state.depth >= maxDepth ? min : Math.max(1, Math.min(3, keywordCount || 2));
  const count = Math.min(max, Math.max(min, wanted));
  const items: unknown[] = [];
  const seen = new Set<string>();
  for (let index = 0; items.length < count && index < count * 4; index++) {
    let item = generate(schema['items'], inner, singular(name), index);
    if (schema['uniqueItems'] === true) {
      let key = JSON.stringify(item);
      if (seen.has(key)) {
        if (typeof item === 'string') item = `${item} ${index + 1}`;
        else if (typeof item === 'number') item = item + index + 1;
        key = JSON.stringify(item);
        if (seen.has(key)) continue;
      }
      seen.add(key);
    }
    items.push(item);
  }
  return items;
}

function numberFor(name: string, schema: JsonSchema, state: State, integer: boolean): number {
  const words = nameWords(name);
  const fraction =
    !integer &&
    words.some((word) => ['confidence', 'probability', 'score', 'ratio', 'share', 'weight'].includes(word));
  let min = finite(schema['minimum']) ?? (fraction ? 0 : integer ? 1 : 0);
  let max = finite(schema['maximum']) ?? (fraction ? Math.max(min, 1) : min + 100);
  const exclusiveMin = finite(schema['exclusiveMinimum']);
  const exclusiveMax = finite(schema['exclusiveMaximum']);
  const step = integer ? 1 : fraction ? 0.01 : 0.1;
  if (exclusiveMin !== undefined) min = Math.max(min, exclusiveMin + step);
  if (exclusiveMax !== undefined) max = Math.min(max, exclusiveMax - step);
  if (max < min) max = min;
  const multipleOf = finite(schema['multipleOf']);
  const fits = (value: number): boolean =>
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value)) &&
    (multipleOf === undefined || isMultiple(value, multipleOf));
  const fromPrompt = state.context.terms.numbers.find(fits);
  if (fromPrompt !== undefined) return fromPrompt;
  if (multipleOf !== undefined && multipleOf > 0) {
    const low = Math.ceil(min / multipleOf);
    const high = Math.floor(max / multipleOf);
    return high >= low ? state.context.random.integer(low, high) * multipleOf : low * multipleOf;
  }
  const value = min + state.context.random.next() * (max - min);
  if (integer) return Math.min(Math.floor(max), Math.max(Math.ceil(min), Math.round(value)));
  return Math.min(max, Math.max(min, Number((Math.round(value / step) * step).toFixed(2))));
}

function stringFor(name: string, schema: JsonSchema, state: State, index: number): string {
  const { terms, random, answer } = state.context;
  const keyword =
    terms.keywords.length > 0 ? (terms.keywords[index % terms.keywords.length] as string) : 'simulated';
  const people = terms.properNouns.filter((noun) => !terms.places.includes(noun));
  const place =
    terms.places[index % Math.max(1, terms.places.length)] ??
    terms.properNouns[index % Math.max(1, terms.properNouns.length)] ??
    capitalise(keyword);
  const person =
    people[index % Math.max(1, people.length)] ??
    terms.properNouns[index % Math.max(1, terms.properNouns.length)] ??
    capitalise(keyword);
  const format = typeof schema['format'] === 'string' ? schema['format'] : '';
  const words = nameWords(name);
  const has = (...candidates: string[]): boolean => words.some((word) => candidates.includes(word));
  let value: string;
  const day = 1 + random.integer(0, 27);
  const month = 1 + random.integer(0, 11);
  const date = `2025-${pad(month)}-${pad(day)}`;
  if (format === 'date-time' || (format === '' && has('timestamp', 'datetime')))
    value = `${date}T${pad(random.integer(8, 18))}:${pad(random.integer(0, 59))}:00Z`;
  else if (format === 'date' || (format === '' && has('date', 'day', 'birthday', 'deadline'))) value = date;
  else if (format === 'time') value = `${pad(random.integer(8, 18))}:${pad(random.integer(0, 59))}:00`;
  else if (format === 'email' || has('email', 'mail')) value = `${slug(keyword)}@example.com`;
  else if (format === 'uri' || format === 'url' || has('url', 'uri', 'link', 'website', 'href'))
    value = `https://example.com/${slug(keyword)}`;
  else if (format === 'uuid') value = uuidFrom(`${terms.topic}|${name}|${index}`);
  else if (format === 'hostname') value = 'example.com';
  else if (format === 'ipv4') value = `192.0.2.${1 + (index % 250)}`;
  else if (
    has(
      'summary',
      'answer',
      'description',
      'explanation',
      'reason',
      'reasoning',
      'text',
      'content',
      'body',
      'message',
      'comment',
      'response',
      'details',
      'note',
      'notes',
      'rationale',
    )
  )
    value = answer;
  else if (has('title', 'heading', 'headline', 'subject', 'caption'))
    value = terms.keywords.slice(0, 4).map(capitalise).join(' ') || 'Simulated Title';
  else if (has('city', 'location', 'place', 'country', 'region', 'destination', 'origin', 'address'))
    value = place;
  else if (
    has(
      'name',
      'person',
      'author',
      'user',
      'owner',
      'company',
      'organization',
      'organisation',
      'traveller',
      'traveler',
      'guest',
      'customer',
      'recipient',
      'sender',
      'participant',
    )
  )
    value = person;
  else if (has('query', 'question', 'prompt', 'search', 'input', 'request')) value = terms.topic;
  else if (has('language', 'lang', 'locale')) value = 'en';
  else if (has('currency')) value = 'USD';
  else if (has('id', 'identifier', 'key', 'code'))
    value = `sim-${deriveToken(`${terms.topic}|${name}|${index}`, 8).toLowerCase()}`;
  else value = keyword;
  return fitLength(value, schema, terms);
}

function fitLength(value: string, schema: JsonSchema, terms: PromptTerms): string {
  const minLength = nonNegative(schema['minLength']) ?? 0;
  const maxLength = nonNegative(schema['maxLength']);
  let out = value;
  let index = 0;
  while ([...out].length < minLength) {
    out += ` ${terms.keywords[index % Math.max(1, terms.keywords.length)] ?? 'simulated'}`;
    index++;
  }
  if (maxLength !== undefined && [...out].length > maxLength) out = [...out].slice(0, maxLength).join('');
  return out;
}

function pickEnum(values: unknown[], state: State): unknown {
  const prompt = `${state.context.terms.topic} ${state.context.terms.keywords.join(' ')}`.toLowerCase();
  const named = values.find(
    (value) => typeof value === 'string' && value.length > 1 && prompt.includes(value.toLowerCase()),
  );
  return named !== undefined ? named : state.context.random.pick(values);
}

function typeOf(schema: JsonSchema): string {
  const type = schema['type'];
  if (typeof type === 'string') return type.toLowerCase();
  if (Array.isArray(type)) {
    const first = type.find((item) => typeof item === 'string' && item.toLowerCase() !== 'null') ?? type[0];
    return typeof first === 'string' ? first.toLowerCase() : 'string';
  }
  if (isObject(schema['properties']) || Array.isArray(schema['required'])) return 'object';
  if ('items' in schema || 'prefixItems' in schema) return 'array';
  return 'string';
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; hops < 16 && typeof current['$ref'] === 'string'; hops++) {
    const target = lookupPointer(root, current['$ref']);
    if (!isObject(target)) return {};
    const { $ref: _ref, ...siblings } = current;
    current = { ...target, ...siblings };
  }
  return current;
}

function lookupPointer(root: JsonSchema, reference: string): unknown {
  if (reference === '#') return root;
  if (!reference.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of reference.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : undefined;
  }
  return node;
}

function isNullSchema(schema: unknown, root: JsonSchema): boolean {
  return isObject(schema) && typeOf(resolve(schema, root)) === 'null';
}

function mergeSiblings(schema: JsonSchema, key: string, chosen: unknown): unknown {
  const { [key]: _options, ...siblings } = schema;
  return isObject(chosen) ? { ...siblings, ...chosen } : chosen;
}

function mergeAllOf(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const { allOf, ...merged } = schema;
  const properties: JsonSchema = isObject(merged['properties']) ? { ...merged['properties'] } : {};
  const required = new Set<unknown>(Array.isArray(merged['required']) ? merged['required'] : []);
  for (const part of Array.isArray(allOf) ? allOf : []) {
    if (!isObject(part)) continue;
    const resolved = resolve(part, root);
    Object.assign(merged, resolved);
    if (isObject(resolved['properties'])) Object.assign(properties, resolved['properties']);
    if (Array.isArray(resolved['required'])) for (const key of resolved['required']) required.add(key);
  }
  if (Object.keys(properties).length > 0) merged['properties'] = properties;
  if (required.size > 0) merged['required'] = [...required];
  return merged;
}

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

function singular(name: string): string {
  return name.endsWith('ies') ? `${name.slice(0, -3)}y` : name.endsWith('s') ? name.slice(0, -1) : name;
}

function isMultiple(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9;
}

function uuidFrom(text: string): string {
  const hex = [...deriveToken(text, 32)].map((char) => (char.charCodeAt(0) % 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function nonNegative(value: unknown): number | undefined {
  const number = finite(value);
  return number === undefined || number < 0 ? undefined : Math.floor(number);
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function slug(word: string): string {
  return (
    word
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'sim'
  );
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
