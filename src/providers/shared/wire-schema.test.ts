import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ProviderError } from '../../core/index.ts';
import { createWireVariantSchema, parseWirePayload } from './wire-schema.ts';

const blockSchema = createWireVariantSchema({
  text: z.looseObject({ type: z.literal('text'), text: z.string() }),
});
const messageSchema = z.looseObject({ content: z.array(blockSchema) });
const source = { provider: 'acme', deployment: 'acme-eu' };

describe('createWireVariantSchema', () => {
  it('checks a known variant, keeps its unknown fields, and lets unknown variants pass as other', () => {
    assert.deepEqual(
      messageSchema.parse({
        content: [
          { type: 'text', text: 'Hi', citations: [] },
          { type: 'thinking', thinking: '…' },
          { type: 'constructor' },
        ],
      }).content,
      [
        { type: 'text', text: 'Hi', citations: [] },
        { type: 'other', wireType: 'thinking' },
        { type: 'other', wireType: 'constructor' },
      ],
    );
  });

  it('names the bad field of a known variant, and a missing or odd tag', () => {
    const messageOf = (value: unknown): string => {
      try {
        parseWirePayload(messageSchema, value, source);
      } catch (error) {
        assert.ok(ProviderError.isProviderError(error) && error.kind === 'malformed_response');
        assert.equal(error.deployment, 'acme-eu');
        return error.message;
      }
      assert.fail('expected a malformed_response');
    };
    assert.match(
      messageOf({ content: [{ type: 'text', text: 1 }] }),
      /^acme returned a malformed response: content\[0\]\.text: .*expected string/,
    );
    assert.match(messageOf({ content: [{ text: 'Hi' }] }), /content\[0\]\.type: expected a string type tag/);
    assert.match(messageOf({ content: ['Hi'] }), /content\[0\]: expected an object/);
    assert.match(messageOf(null), /response body: .*expected object/);
  });
});
