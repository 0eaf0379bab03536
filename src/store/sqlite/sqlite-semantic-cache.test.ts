// A restart of the semantic cache on a file SQLite store: entries, vectors and the HNSW indexes come back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { createProviderEmbedder, createSemanticCache, type CacheScope } from '../../cache/index.ts';
import type { Clock } from '../../core/index.ts';
import { embedText } from '../../providers/sim/index.ts';
import type { ChatRequest } from '../../spec/index.ts';
import { createSqliteStore } from './sqlite-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-semantic-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const scope: CacheScope = {
  tenant: 'tenant_a',
  stepType: 'chat',
  modelGroup: 'fast',
  configFingerprint: 'config-1',
};
const settings = { threshold: 0.8, guard: true, multiTurn: false };
const avoided = { costUsd: 0.01, latencyMs: 900 };
const origin = { provider: 'openai', model: 'gpt-4o-mini', deployment: 'openai-mini', simulated: true };
const request = (content: string): ChatRequest => ({
  model: 'fast',
  temperature: 0,
  messages: [{ role: 'user', content }],
});
const answer = (content: string) => ({
  kind: 'response' as const,
  response: {
    id: 'chatcmpl-1',
    object: 'chat.completion' as const,
    created: 1,
    model: 'sim',
    choices: [{ index: 0, message: { role: 'assistant' as const, content }, finish_reason: 'stop' as const }],
  },
});

function clockAt(now: number): Clock {
  return { now: () => now, monotonic: () => now, sleep: async () => undefined };
}

function semanticCache(store: Awaited<ReturnType<typeof createSqliteStore>>, clock: Clock) {
  // The sim's deterministic embeddings: the same text gets the same vector in every process.
  const embedder = createProviderEmbedder({
    id: 'provider:sim',
    embed: async (inputs) => inputs.map((text) => embedText(text, 128)),
  });
  return createSemanticCache({ embedder, clock, persistence: store.semanticCache });
}

test('a semantic cache on a file SQLite store serves its entries again after a restart; expired ones are dropped', async () => {
  const path = join(directory, 'restart.db');
  const start = 1_700_000_000_000;
  const first = await createSqliteStore({ path });
  const before = semanticCache(first, clockAt(start));
  assert.equal(await before.restore(), 0);
  await before.store(scope, request('How do I export my data?'), answer('Settings → Export'), avoided, {
    ttlMs: 3_600_000,
    multiTurn: false,
    origin,
  });
  await before.store(scope, request('What are your opening hours?'), answer('9 to 5'), avoided, {
    ttlMs: 1_000,
    multiTurn: false,
  });
  await first.close();

  const raw = new Database(path, { readonly: true });
  try {
    assert.deepEqual(
      raw.prepare('select typeof(vector) as type, length(vector) as bytes from semantic_cache_entries').all(),
      [
        { type: 'blob', bytes: 128 * 4 },
        { type: 'blob', bytes: 128 * 4 },
      ],
    );
  } finally {
    raw.close();
  }

  const second = await createSqliteStore({ path });
  try {
    const after = semanticCache(second, clockAt(start + 60_000));
    assert.equal(await after.restore(), 1);
    const result = await after.lookup(scope, request('how do I export my data'), settings);
    assert.equal(result.hit, true);
    if (!result.hit) return;
    assert.deepEqual(result.answer, answer('Settings → Export'));
    assert.deepEqual(result.avoided, avoided);
    assert.deepEqual(result.origin, origin);
    assert.equal(result.ageMs, 60_000);
    assert.equal((await after.lookup(scope, request('What are your opening hours?'), settings)).hit, false);
    assert.deepEqual(
      (await second.semanticCache.loadAll()).map((record) => record.text),
      ['How do I export my data?'],
    );
    assert.equal(
      (await after.lookup({ ...scope, tenant: 'tenant_b' }, request('How do I export my data?'), settings))
        .hit,
      false,
    );
  } finally {
    await second.close();
  }
});
