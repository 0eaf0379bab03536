// The README's semantic-cache figures are the measured ones (bench/results/semantic-cache.md, written
// by `npm run bench -- semantic-cache`; its quality figures do not depend on the machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

test('the README states the semantic cache is off by default, with the precision and recall measured at its defaults', () => {
  const results = read('bench/results/semantic-cache.md');
  const readme = read('README.md');
  const measured =
    /default operating point .*STS-B test split \(held out\): precision ([\d.]+%) .*recall ([\d.]+%)/.exec(
      results,
    );
  assert.ok(measured, 'the verdict line of bench/results/semantic-cache.md');
  const [, precision, recall] = measured;
  assert.match(readme, new RegExp(`\\*\\*${recall}\\*\\* of the true paraphrase pairs`));
  assert.match(readme, new RegExp(`\\*\\*${precision}\\s+precision\\*\\*`));
  assert.match(readme, /semantic cache: off by default/);
  // GPTCache's pairs looked up through the cache, the verifier as the guard, at the default threshold.
  const gptcache =
    /^\| local \(USE-512\) \+ verifier \| on +\| +0\.85 \|.*\| +([\d.]+%) \| +([\d.]+%) \|$/m.exec(results);
  assert.ok(gptcache, 'the GPTCache retrieval row with the verifier at 0.85');
  const [, hitRate, hitPrecision] = gptcache;
  assert.match(readme, new RegExp(`it serves ${hitRate} of the\\s+paraphrases, ${hitPrecision} of them`));
});
