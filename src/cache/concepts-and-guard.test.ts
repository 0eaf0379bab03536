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

test('paraphrases that differ only in an unambiguous form normalise alike', () => {
  const same = [
    ['Holidays in the US', 'holidays in the United States'],
    ['Holidays in the U.S.', 'holidays in the united states'],
    ['Is the U.S. open?', 'Is the United States open?'],
    ['Flights to the USA', 'flights to the United States of America'],
    ['Jobs in the UK', 'jobs in the United Kingdom'],
    ['Use a tool, e.g. a linter', 'use a tool, for example a linter'],
    ['Use a tool, E.g. a linter', 'use a tool, for instance a linter'],
    ['The first, i.e. the oldest', 'the first, that is the oldest'],
    ["I can't log in", 'I cannot log in'],
    ["It won't start", 'it will not start'],
    ["What's ML?", 'what is machine learning'],
    ['Is AI safe?', 'Is A.I. safe?'],
  ];
  for (const [a, b] of same)
    assert.equal(normalizer.normalize(a as string), normalizer.normalize(b as string), a);
});

test('ordinary words that look like abbreviations are left alone', () => {
  // The pronoun, the words "wont" and "cant", millilitres, and "eg"/"ie" without their dots.
  assert.equal(normalizer.normalize('Send us a summary'), 'send us a summary');
  assert.equal(normalizer.normalize('Which are the holidays for us?'), 'which are the holidays for us');
  assert.equal(normalizer.normalize('As is his wont, he cant stop'), 'as is his wont he cant stop');
  assert.equal(normalizer.normalize('Add 10 ml of milk'), 'add 10 ml of milk');
  assert.equal(normalizer.normalize('eg and ie, uk and usa'), 'eg and ie uk and usa');
  assert.notEqual(normalizer.normalize('Send us the file'), normalizer.normalize('Send US the file'));
  assert.notEqual(normalizer.normalize('10 ml'), normalizer.normalize('10 ML'));
  // A currency sign is kept as a word: $5 is not €5.
  assert.equal(normalizer.normalize('Convert $50 to €'), 'convert $ 50 to €');
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

test('the guard refuses numbers in another order or repeated, and "one" the pronoun against 1', () => {
  assert.equal(pick(guard.check('Is 10 greater than 3?', 'Is 3 greater than 10?')), 'numbers');
  assert.equal(pick(guard.check('What happened on 3/4/2020?', 'What happened on 4/3/2020?')), 'numbers');
  assert.equal(pick(guard.check('What is 2 + 2?', 'What is 2 + 2 + 2?')), 'numbers');
  assert.equal(
    pick(guard.check('How many hours should one sleep?', 'How many hours should a 1 year old sleep?')),
    'numbers',
  );
  // Other number words still equal their digits.
  assert.equal(pick(guard.check('Give me ten ideas for a party', 'Give me 10 ideas for a party')), undefined);
});

test('the guard refuses other units, currencies, times of day and conversions the other way round', () => {
  assert.equal(pick(guard.check('Convert 5 miles to km', 'Convert 5 km to miles')), 'units');
  assert.equal(
    pick(guard.check('How many grams are in a pound?', 'How many pounds are in a gram?')),
    'units',
  );
  assert.equal(pick(guard.check('How many cups is 250 ml?', 'How many cups is 250 l?')), 'units');
  assert.equal(pick(guard.check('Convert $50 to pounds', 'Convert €50 to pounds')), 'units');
  assert.equal(pick(guard.check('Book a table at 7 pm', 'Book a table at 7 am')), 'units');
  assert.equal(pick(guard.check('Remind me in 2 hours', 'Remind me in 2 days')), 'units');
  // Spellings of one unit are one unit; "am" the verb is not a time of day.
  assert.equal(pick(guard.check('Walk 5 km a day', 'Walk 5 kilometres a day')), undefined);
  assert.equal(
    pick(guard.check('Am I late for the 5 pm call?', 'Am I late for the 5 p.m. call?')),
    undefined,
  );
  // Units that are ordinary words too count only after a number.
  assert.notEqual(pick(guard.check('Explain it a bit more', 'Explain it a little more')), 'units');
  assert.notEqual(
    pick(guard.check('Which is the second largest planet?', 'Which is the largest planet?')),
    'units',
  );
  assert.equal(pick(guard.check('Wait 5 seconds', 'Wait 5 minutes')), 'units');
});

test('the guard counts a contraction without its apostrophe as a negation', () => {
  assert.equal(pick(guard.check('I can log in to my account', 'I cant log in to my account')), 'negation');
  assert.equal(pick(guard.check('The payment will go through', 'The payment wont go through')), 'negation');
  assert.equal(pick(guard.check('Why do I get emails?', 'Why dont I get emails?')), 'negation');
  assert.equal(pick(guard.check("Why don't I get emails?", 'Why dont I get emails?')), undefined);
});

test('the guard refuses the pronoun "us" against the country', () => {
  assert.equal(
    pick(guard.check('Which are the public holidays in the US?', 'Which are the public holidays for us?')),
    'entities',
  );
});

function pick(verdict: { ok: boolean; reason?: string }): string | undefined {
  return verdict.ok ? undefined : verdict.reason;
}
