import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { convertToGeminiSchema } from './convert-to-gemini-schema.ts';

describe('convertToGeminiSchema', () => {
  it('removes keywords Gemini rejects and keeps the supported ones', () => {
    assert.deepEqual(
      convertToGeminiSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        additionalProperties: false,
        properties: {
          city: {
            type: 'string',
            description: 'City name',
            minLength: 1,
            default: 'Paris',
            examples: ['Rome'],
          },
          days: { type: 'integer', minimum: 1, maximum: 7, format: 'int32' },
          email: { type: 'string', format: 'email' },
        },
        required: ['city', 'missing'],
      }),
      {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name', minLength: 1 },
          days: { type: 'integer', minimum: 1, maximum: 7, format: 'int32' },
          email: { type: 'string' },
        },
        required: ['city'],
      },
    );
  });

  it('turns nullable type unions and anyOf-with-null into nullable', () => {
    assert.deepEqual(convertToGeminiSchema({ type: ['string', 'null'] }), { type: 'string', nullable: true });
    assert.deepEqual(convertToGeminiSchema({ anyOf: [{ type: 'number' }, { type: 'null' }] }), {
      type: 'number',
      nullable: true,
    });
    assert.deepEqual(convertToGeminiSchema({ oneOf: [{ type: 'number' }, { type: 'string' }] }), {
      anyOf: [{ type: 'number' }, { type: 'string' }],
    });
  });

  it('keeps string enums, turns const into an enum and drops non-string enums', () => {
    assert.deepEqual(convertToGeminiSchema({ type: 'string', enum: ['a', 'b'] }), {
      type: 'string',
      enum: ['a', 'b'],
    });
    assert.deepEqual(convertToGeminiSchema({ const: 'fixed' }), { type: 'string', enum: ['fixed'] });
    assert.deepEqual(convertToGeminiSchema({ type: 'integer', enum: [1, 2] }), { type: 'integer' });
  });

  it('inlines local $refs and stops recursion with an open object', () => {
    const schema = {
      type: 'object',
      properties: { home: { $ref: '#/$defs/address' }, node: { $ref: '#/definitions/tree' } },
      $defs: { address: { type: 'object', properties: { street: { type: 'string' } } } },
      definitions: { tree: { type: 'object', properties: { child: { $ref: '#/definitions/tree' } } } },
    };
    const converted = convertToGeminiSchema(schema);
    const properties = converted.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.home, { type: 'object', properties: { street: { type: 'string' } } });
    let depth = 0;
    let node: Record<string, unknown> | undefined = properties.node;
    while (node !== undefined && node.properties !== undefined) {
      node = (node.properties as Record<string, Record<string, unknown>>).child;
      depth += 1;
    }
    assert.deepEqual(node, { type: 'object' });
    assert.ok(depth > 1 && depth < 20);
  });

  it('drops an empty properties map and converts array items', () => {
    assert.deepEqual(convertToGeminiSchema({ type: 'object', properties: {} }), { type: 'object' });
    assert.deepEqual(
      convertToGeminiSchema({ type: 'array', items: { type: 'string', pattern: '^a' }, maxItems: 3 }),
      {
        type: 'array',
        maxItems: 3,
        items: { type: 'string', pattern: '^a' },
      },
    );
  });

  it('adds the declared property order when asked', () => {
    assert.deepEqual(
      convertToGeminiSchema(
        { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } },
        { keepPropertyOrder: true },
      ),
      {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer' } },
        propertyOrdering: ['name', 'age'],
      },
    );
  });
});
