import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenAIResetDuration, parseRetryAfterMs } from './parse-retry-after.ts';

describe('parseRetryAfterMs', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it('reads retry-after in whole and decimal seconds', () => {
    assert.equal(parseRetryAfterMs({ 'retry-after': '2' }), 2000);
    assert.equal(parseRetryAfterMs({ 'retry-after': '0.5' }), 500);
    assert.equal(parseRetryAfterMs({ 'retry-after': ' 3 ' }), 3000);
    assert.equal(parseRetryAfterMs({ 'retry-after': '0' }), 0);
  });

  it('reads retry-after as an HTTP date relative to now, never negative', () => {
    assert.equal(parseRetryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, now), 5000);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:27:00 GMT' }, now), 0);
  });

  it('prefers retry-after-ms, then x-ms-retry-after-ms, over retry-after', () => {
    assert.equal(
      parseRetryAfterMs({ 'retry-after-ms': '150', 'x-ms-retry-after-ms': '900', 'retry-after': '9' }),
      150,
    );
    assert.equal(parseRetryAfterMs({ 'x-ms-retry-after-ms': '900', 'retry-after': '9' }), 900);
    assert.equal(parseRetryAfterMs({ 'retry-after-ms': '12.5' }), 12.5);
  });

  it('ignores garbage and falls through to the next header', () => {
    assert.equal(parseRetryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '4' }), 4000);
    assert.equal(parseRetryAfterMs({ 'x-ms-retry-after-ms': '-5', 'retry-after': '1' }), 1000);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'later' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': '-1' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': '1e3' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'NaN' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'Infinity' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': '' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'x 2' }), undefined);
    assert.equal(parseRetryAfterMs({ 'retry-after': 'Mon, 99 Foo 2015 99:99:99 GMT' }), undefined);
  });

  it('returns undefined with no hint', () => {
    assert.equal(parseRetryAfterMs({}), undefined);
    assert.equal(parseRetryAfterMs({ 'content-type': 'application/json' }), undefined);
  });
});

describe('parseOpenAIResetDuration', () => {
  it('parses Go-style durations', () => {
    assert.equal(parseOpenAIResetDuration('6m0s'), 360_000);
    assert.equal(parseOpenAIResetDuration('12ms'), 12);
    assert.equal(parseOpenAIResetDuration('1.5s'), 1500);
    assert.equal(parseOpenAIResetDuration('1h2m3s'), 3_723_000);
    assert.equal(parseOpenAIResetDuration('0s'), 0);
    assert.equal(parseOpenAIResetDuration('2m30.5s'), 150_500);
  });

  it('rejects anything else', () => {
    assert.equal(parseOpenAIResetDuration(undefined), undefined);
    assert.equal(parseOpenAIResetDuration(''), undefined);
    assert.equal(parseOpenAIResetDuration('6'), undefined);
    assert.equal(parseOpenAIResetDuration('6m junk'), undefined);
    assert.equal(parseOpenAIResetDuration('abc'), undefined);
    assert.equal(parseOpenAIResetDuration('-1s'), undefined);
    assert.equal(parseOpenAIResetDuration('1d'), undefined);
  });
});
