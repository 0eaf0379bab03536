import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRateLimitPause } from './read-rate-limit-pause.ts';

const now = Date.parse('2026-01-01T00:00:00Z');

test('no pause while the provider still has room', () => {
  assert.equal(
    readRateLimitPause({ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '20s' }, now),
    undefined,
  );
  assert.equal(readRateLimitPause({}, now), undefined);
});

test('OpenAI: an exhausted limit rests until its reset duration, the longer of requests and tokens', () => {
  assert.deepEqual(
    readRateLimitPause({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' }, now),
    { pauseMs: 1_500, header: 'x-ratelimit-remaining-requests' },
  );
  assert.deepEqual(
    readRateLimitPause(
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '2s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '1m0s',
      },
      now,
    ),
    { pauseMs: 60_000, header: 'x-ratelimit-remaining-tokens' },
  );
  assert.equal(
    readRateLimitPause({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': 'soon' }, now),
    undefined,
    'an unreadable reset is ignored',
  );
});

test('Anthropic: reset times are RFC 3339 timestamps', () => {
  assert.deepEqual(
    readRateLimitPause(
      {
        'anthropic-ratelimit-output-tokens-remaining': '0',
        'anthropic-ratelimit-output-tokens-reset': '2026-01-01T00:00:12Z',
      },
      now,
    ),
    {
      pauseMs: 12_000,
      header: 'anthropic-ratelimit-output-tokens-remaining',
    },
  );
});
