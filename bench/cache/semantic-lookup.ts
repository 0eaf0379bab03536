import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createConceptNormalizer,
  createSemanticCache,
  normalizeVector,
  type CacheScope,
  type Embedder,
  type SemanticCache,
} from '../../src/cache/index.ts';
import type { ChatRequest } from '../../src/spec/index.ts';
import { createSystemClock } from '../../src/core/index.ts';
import { createRandom } from '../../src/providers/sim/index.ts';
import { percentile } from '../support/index.ts';

export interface SemanticLookupResult {
  entries: number;
  dimensions: number;
  /** Seconds to fill the cache (embedding excluded). */
  fillS: number;
  /** Lookups that found the stored neighbour (similarity ~0.99, guard run). */
  hitP50Ms: number;
  hitP99Ms: number;
  /** Lookups with nothing above the threshold. */
  missP50Ms: number;
  missP99Ms: number;
  /** Share of hit-path lookups that did hit (HNSW is approximate). */
  hitRecall: number;
  /** Bytes held per entry (JS heap + native buffers), after a full GC. */
  bytesPerEntry: number;
  /** Process RSS growth while filling, MB. */
  rssGrowthMb: number;
}

const scope: CacheScope = {
  tenant: 'bench',
  stepType: 'chat',
  modelGroup: 'gpt-4o-mini',
  configFingerprint: 'bench',
};
const settings = {
  threshold: 0.95,
  guard: true,
  multiTurn: false,
  fallbackOnError: false,
  fallbackThreshold: 0.95,
};
const answer = {
  kind: 'response' as const,
  response: {
    id: 'c',
    object: 'chat.completion' as const,
    created: 0,
    model: 'm',
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: 'A short stored answer of a few words.' },
        finish_reason: 'stop' as const,
      },
    ],
  },
};

/**
 * Fills a semantic cache with `entries` entries in one namespace (the worst case: every lookup
 * searches all of them) and times lookups through the cache's own API, embedding excluded: the
 * embedder is a table of precomputed unit vectors. Texts are real sentences (so the guard does its
 * real work on a hit); vectors are random unit vectors (no cluster structure: a hard case for HNSW).
 *
 * @example
 * const result = await measureSemanticLookup({ entries: 10_000, dimensions: 512, lookups: 2_000, sentences });
 */
export async function measureSemanticLookup(options: {
  entries: number;
  dimensions: number;
  lookups: number;
  sentences: readonly string[];
}): Promise<SemanticLookupResult> {
  const { entries, dimensions, lookups, sentences } = options;
  const random = createRandom(7).next;
  // A table of precomputed vectors, keyed on the normalised text the cache embeds.
  const normalizer = createConceptNormalizer();
  const vectors = new Map<string, Float32Array>();
  const register = (text: string, vector: Float32Array) =>
    void vectors.set(normalizer.normalize(text), vector);
  const embedder: Embedder = {
    id: 'bench:table',
    embed: async (texts) =>
      texts.map((text) => {
        const vector = vectors.get(text);
        if (vector === undefined) throw new Error(`bench embedder: no vector for "${text.slice(0, 80)}"`);
        return vector;
      }),
  };
  const textOf = (index: number) => `${sentences[index % sentences.length] ?? 'sentence'} (case ${index})`;
  const request = (text: string): ChatRequest => ({
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [{ role: 'user', content: text }],
  });
  const collect = gcFunction();
  collect();
  const before = memoryHeld();
  const rssBefore = process.memoryUsage().rss;
  const cache: SemanticCache = createSemanticCache({
    embedder,
    normalizer,
    clock: createSystemClock(),
    maxEntries: entries,
    maxEntriesPerNamespace: entries,
  });
  const fillStart = performance.now();
  const stored: Array<{ text: string; vector: Float32Array }> = [];
  for (let index = 0; index < entries; index++) {
    const text = textOf(index);
    const vector = randomUnitVector(dimensions, random);
    register(text, vector);
    await cache.store(
      scope,
      request(text),
      answer,
      { costUsd: 0.001, latencyMs: 800 },
      { ttlMs: 3_600_000, multiTurn: false },
    );
    if (index % Math.max(1, Math.floor(entries / lookups)) === 0) stored.push({ text, vector });
  }
  const fillS = (performance.now() - fillStart) / 1000;
  // The bench's own vector table is not the cache's memory.
  vectors.clear();
  collect();
  const bytesPerEntry = (memoryHeld() - before) / entries;
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;

  const hitTimes: number[] = [];
  const missTimes: number[] = [];
  let hits = 0;
  for (let index = 0; index < lookups; index++) {
    // Hit path: the stored text, its vector nudged (similarity about 0.99).
    const target = stored[index % stored.length];
    if (target === undefined) break;
    const nudged = nudge(target.vector, 0.1, random);
    const hitText = `${target.text} `;
    register(hitText, nudged);
    let started = performance.now();
    const found = await cache.lookup(scope, request(hitText), settings);
    hitTimes.push(performance.now() - started);
    if (found.hit) hits += 1;
    // Miss path: a random vector, nothing near it.
    const missText = `unrelated question number ${index}`;
    register(missText, randomUnitVector(dimensions, random));
    started = performance.now();
    await cache.lookup(scope, request(missText), settings);
    missTimes.push(performance.now() - started);
  }
  return {
    entries,
    dimensions,
    fillS,
    hitP50Ms: percentile(hitTimes, 50),
    hitP99Ms: percentile(hitTimes, 99),
    missP50Ms: percentile(missTimes, 50),
    missP99Ms: percentile(missTimes, 99),
    hitRecall: hits / hitTimes.length,
    bytesPerEntry,
    rssGrowthMb,
  };
}

function randomUnitVector(dimensions: number, random: () => number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (let index = 0; index < dimensions; index++) vector[index] = random() * 2 - 1;
  return normalizeVector(vector);
}

function nudge(vector: Float32Array, amount: number, random: () => number): Float32Array {
  const noise = randomUnitVector(vector.length, random);
  const out = new Float32Array(vector.length);
  for (let index = 0; index < vector.length; index++)
    out[index] = (vector[index] ?? 0) + amount * (noise[index] ?? 0);
  return normalizeVector(out);
}

function memoryHeld(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external + usage.arrayBuffers;
}

/** A full garbage collection, for memory figures that are not a GC's timing. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}
