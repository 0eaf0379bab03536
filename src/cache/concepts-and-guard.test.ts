import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConceptNormalizer } from './normalize-concepts.ts';
import { createPrecisionGuard } from './precision-guard.ts';

const normalizer = createConceptNormalizer();
const guard = createPrecisionGuard(normalizer);

test('concepts normalise case, punctuation, abbreviations and synonyms to one form', () => {
  assert.equal(normalizer.normalize('What is AI?'), normalizer.normalize('what is artificial intelligence'));
  assert.equal(
    normalizer.normalize('B2B sales, explained!'),
    normalizer.normalize('Business-to-business sales explained'),
  );
  assert.equal(
    normalizer.normalize('How does the U.S. tax A.I.?'),
    'how does the united states tax artificial intelligence',
  );
  assert.equal(normalizer.normalize('Pi is 3.14, not 3,15.'), 'pi is 3.14 not 3,15');
  assert.equal(normalizer.normalize("Don't stop"), 'do not stop');
});

test('the concept table is extensible and can replace the defaults', () => {
  const custom = createConceptNormalizer({ concepts: { 'customer relationship management': ['crm'] } });
  assert.equal(
    custom.normalize('Best CRM for AI startups'),
    'best customer relationship management for artificial intelligence startups',
  );
  const only = createConceptNormalizer({ replaceDefaults: true, concepts: { kubernetes: ['k8s'] } });
  assert.equal(only.normalize('AI on K8s'), 'ai on kubernetes');
});

test('the guard accepts a rewording of the same question', () => {
  assert.equal(guard.check('How do I reset my password?', 'How can I reset my password').ok, true);
  assert.equal(
    guard.check(
      'What is AI used for in B2B sales?',
      'What is artificial intelligence used for in business-to-business sales?',
    ).ok,
    true,
  );
});

test('the guard refuses neighbours whose numbers, negations, names or subject differ', () => {
  assert.deepEqual(pick(guard.check('What is 2 + 2?', 'What is 2 + 3?')), 'numbers');
  assert.deepEqual(pick(guard.check('Convert 10 miles to km', 'Convert ten miles to km')), undefined);
  assert.deepEqual(
    pick(guard.check('Is the bridge safe to cross?', 'Is the bridge not safe to cross?')),
    'negation',
  );
  assert.deepEqual(pick(guard.check("I don't like tea", 'I like tea')), 'negation');
  assert.deepEqual(
    pick(guard.check('What is the capital of France?', 'What is the capital of Spain?')),
    'entities',
  );
  assert.deepEqual(
    pick(guard.check('How do I install Python on Windows?', 'How do I install Python on macOS?')),
    'entities',
  );
  assert.deepEqual(
    pick(guard.check('How do I bake sourdough bread?', 'How do I fix a flat bicycle tyre?')),
    'content',
  );
});

function pick(verdict: { ok: boolean; reason?: string }): string | undefined {
  return verdict.ok ? undefined : verdict.reason;
}
