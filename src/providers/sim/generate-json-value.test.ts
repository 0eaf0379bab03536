import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRandom } from './create-random.ts';
import { extractKeywords } from './extract-keywords.ts';
import { generateJsonValue, type JsonValueContext } from './generate-json-value.ts';

// Formats are checked by hand below; ajv only checks structure here.
const ajv = new Ajv2020({ strict: false, validateFormats: false });

function context(prompt: string, seed = 1): JsonValueContext {
  return {
    terms: extractKeywords(prompt),
    random: createRandom(seed),
    answer: `[simulated] An answer about ${prompt}`,
  };
}

function assertValid(schema: Record<string, unknown>, value: unknown): void {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${JSON.stringify(value)} is invalid: ${ajv.errorsText(validate.errors)}`);
}

const prompt = 'Plan a 3 day trip to Lisbon with Maria: museums, food and the best viewpoints.';

const schemas: Array<[string, Record<string, unknown>]> = [
  [
    'nested objects, arrays and enums',
    {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 5, maxLength: 40 },
        city: { type: 'string' },
        days: { type: 'integer', minimum: 1, maximum: 14 },
        budget: { type: 'number', exclusiveMinimum: 0, maximum: 5000 },
        mood: { type: 'string', enum: ['relaxed', 'busy', 'cultural'] },
        stops: {
          type: 'array',
          minItems: 4,
          maxItems: 6,
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              order: { type: 'integer', multipleOf: 5 },
              booked: { type: 'boolean' },
            },
            required: ['name', 'order', 'booked'],
            additionalProperties: false,
          },
        },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 3 },
        version: { const: 'v1' },
      },
      required: ['title', 'city', 'days', 'budget', 'mood', 'stops', 'tags', 'version'],
      additionalProperties: false,
    },
  ],
  [
    '$ref to $defs, anyOf with null, allOf and tuples',
    {
      type: 'object',
      $defs: {
        person: {
          type: 'object',
          properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
          required: ['name', 'email'],
        },
      },
      properties: {
        organiser: { $ref: '#/$defs/person' },
        guests: { type: 'array', items: { $ref: '#/$defs/person' }, minItems: 1 },
        note: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 30 }] },
        meta: {
          allOf: [
            { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
            { properties: { b: { type: 'string' } }, required: ['b'] },
          ],
        },
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
        maybe: { type: ['integer', 'null'], minimum: 10, maximum: 10 },
      },
      required: ['organiser', 'guests', 'note', 'meta', 'pair', 'maybe'],
    },
  ],
  [
    'a recursive tree',
    {
      type: 'object',
      $defs: {
        node: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
          required: ['label'],
        },
      },
      properties: { root: { $ref: '#/$defs/node' } },
      required: ['root'],
    },
  ],
  [
    'an array root with bounds',
    { type: 'array', items: { type: 'number', minimum: 0.5, maximum: 0.75 }, minItems: 2, maxItems: 2 },
  ],
];

describe('generateJsonValue', () => {
  for (const [name, schema] of schemas) {
    it(`produces a valid value for ${name}`, () => {
      for (let seed = 1; seed <= 20; seed++)
        assertValid(schema, generateJsonValue(schema, context(prompt, seed)));
    });
  }

  it('draws strings and numbers from the prompt', () => {
    const value = generateJsonValue(
      {
        type: 'object',
        properties: {
          city: { type: 'string' },
          days: { type: 'integer' },
          summary: { type: 'string' },
          traveller: { type: 'string' },
        },
        required: ['city', 'days'],
      },
      context(prompt),
    ) as Record<string, unknown>;
    assert.equal(value['city'], 'Lisbon');
    assert.equal(value['days'], 3);
    assert.equal(value['traveller'], 'Maria');
    assert.match(String(value['summary']), /Lisbon/);
  });

  it('picks the enum value the prompt names', () => {
    const value = generateJsonValue(
      { type: 'string', enum: ['positive', 'negative', 'neutral'] },
      context('This review is clearly negative about the hotel'),
    );
    assert.equal(value, 'negative');
  });

  it('writes formatted strings in their format', () => {
    const value = generateJsonValue(
      {
        type: 'object',
        properties: {
          when: { type: 'string', format: 'date-time' },
          day: { type: 'string', format: 'date' },
          id: { type: 'string', format: 'uuid' },
          site: { type: 'string', format: 'uri' },
          contact: { type: 'string', format: 'email' },
        },
      },
      context(prompt),
    ) as Record<string, string>;
    assert.match(value['when'] ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.match(value['day'] ?? '', /^\d{4}-\d{2}-\d{2}$/);
    assert.match(value['id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(value['site'] ?? '', /^https:\/\/example\.com\/[a-z0-9-]+$/);
    assert.match(value['contact'] ?? '', /^[a-z0-9-]+@example\.com$/);
  });

  it("understands Gemini's upper-case OpenAPI schemas", () => {
    const value = generateJsonValue(
      {
        type: 'OBJECT',
        properties: { city: { type: 'STRING' }, temperatures: { type: 'ARRAY', items: { type: 'NUMBER' } } },
        required: ['city', 'temperatures'],
        propertyOrdering: ['temperatures', 'city'],
      },
      context(prompt),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['temperatures', 'city']);
    assert.equal(typeof value['city'], 'string');
    assert.ok(
      Array.isArray(value['temperatures']) && value['temperatures'].every((item) => typeof item === 'number'),
    );
  });

  it('is deterministic for a seed', () => {
    const schema = schemas[0]?.[1] ?? {};
    assert.deepEqual(
      generateJsonValue(schema, context(prompt, 5)),
      generateJsonValue(schema, context(prompt, 5)),
    );
  });
});
