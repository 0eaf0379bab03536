// Cache speed: what an exact hit costs through the gateway, what a semantic lookup costs at 10k
// and 100k entries (with and without embedding), and the memory 100k semantic entries take.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createConceptNormalizer, createLocalEmbedder } from '../../src/cache/index.ts';
import {
  formatMachineFacts,
  formatMarkdownTable,
  formatNumber,
  formatSigned,
  percentile,
  readBenchSettings,
  readList,
  readMachineFacts,
  readNumber,
} from '../support/index.ts';
import { isRealCompletion } from '../gateway-overhead/chat-request.ts';
import { startPipewright, startSim, type Target } from '../gateway-overhead/start-targets.ts';
import { loadPairs, paraphraseDataDir } from '../semantic-cache/load-pairs.ts';
import { cacheTargets, judgeExactHit, judgeSemanticLookup } from './judge-cache-targets.ts';
import { measureSemanticLookup, type SemanticLookupResult } from './semantic-lookup.ts';
import { timeRequests, type TimedTarget } from './time-requests.ts';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = join(benchDir, '..');
const workDir = join(benchDir, '.tmp', 'cache');

const log = (line: string) => process.stderr.write(`${line}\n`);

export interface ExactRow {
  name: string;
  what: string;
  /** Over every request of every round. */
  p50: number;
  p99: number;
  /** Each round's p99, in round order. */
  roundP99s: number[];
  ok: number;
  failures: number;
  firstFailure?: string | undefined;
}

const question = (index: number | null) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    temperature: 0,
    messages: [
      { role: 'system', content: 'You are a concise assistant.' },
      {
        role: 'user',
        content: `Explain in two sentences why a cache in front of model providers saves money.${index === null ? '' : ` (variant ${index})`}`,
      },
    ],
    max_tokens: 64,
  });

const expectStatus = (expected: string | undefined) => (body: string, status: string | undefined) => {
  if (!isRealCompletion(body)) return `bad body: ${body.slice(0, 200)}`;
  if (expected !== undefined && status !== expected)
    return `x-pipewright-cache: ${status ?? '(none)'}, expected ${expected}`;
  return undefined;
};

export async function run(): Promise<void> {
  const started = Date.now();
  const facts = readMachineFacts(new Date());
  const requestsPerRound = readNumber(process.env, 'BENCH_CACHE_REQUESTS', 2_000, {
    min: 100,
    integer: true,
  });
  const rounds = readBenchSettings(process.env).repeats;
  const semanticSizes = readList(process.env, 'BENCH_SEMANTIC_SIZES', [10_000, 100_000], 1_000_000);
  mkdirSync(workDir, { recursive: true });

  // 1. Exact hits through the gateway, against the upstream called directly (and, for reference,
  // the same gateway with the cache off).
  const sim = await startSim(repoDir);
  const stoppers: Array<() => Promise<void>> = [() => sim.process.stop()];
  const exactRows: ExactRow[] = [];
  try {
    const cacheOff = await startPipewright(repoDir, workDir, sim.url, {
      configName: 'cache-off.json',
      extraConfig: { cache: { enabled: false, singleFlight: false } },
    });
    stoppers.push(() => cacheOff.process.stop());
    const cacheOn = await startPipewright(repoDir, workDir, sim.url, { configName: 'cache-on.json' });
    stoppers.push(() => cacheOn.process.stop());
    const timed = (
      target: Target,
      name: string,
      body: (index: number) => string,
      expected: string | undefined,
    ): TimedTarget => ({
      name,
      url: target.url,
      headers: target.headers,
      body,
      check: expectStatus(expected),
    });
    let variant = 0;
    const cells: Array<{ what: string; target: TimedTarget }> = [
      {
        what: 'the sim, no gateway',
        target: timed(sim.target, 'direct (sim)', () => question(null), undefined),
      },
      {
        what: 'gateway, cache off: every request goes upstream',
        target: timed(cacheOff, 'bare gateway', () => question(null), undefined),
      },
      {
        what: 'gateway, cache on, a new question each time: lookup + upstream + store',
        target: timed(cacheOn, 'cache miss', () => question(variant++), 'miss'),
      },
      {
        what: 'gateway, cache on, the same question: answered from the cache',
        target: timed(cacheOn, 'exact hit', () => question(null), 'hit'),
      },
    ];
    // Warm every path (JIT, connections) and store the repeated question once.
    for (const cell of cells) await timeRequests({ ...cell.target, check: () => undefined }, 300, 0);
    const samples = new Map<
      string,
      { latencies: number[]; roundP99s: number[]; failures: number; firstFailure?: string }
    >();
    for (let round = 0; round < rounds; round++) {
      // The order rotates so drift on a shared machine hits every cell alike.
      const order = cells.map((_, index) => cells[(index + round) % cells.length]!);
      for (const cell of order) {
        const batch = await timeRequests(cell.target, requestsPerRound, round * requestsPerRound);
        const sample = samples.get(cell.target.name) ?? { latencies: [], roundP99s: [], failures: 0 };
        sample.latencies.push(...batch.latenciesMs);
        sample.roundP99s.push(percentile(batch.latenciesMs, 99));
        sample.failures += batch.failures;
        if (batch.firstFailure !== undefined) sample.firstFailure ??= batch.firstFailure;
        samples.set(cell.target.name, sample);
        log(
          `  round ${round + 1} ${cell.target.name.padEnd(14)} p50 ${percentile(batch.latenciesMs, 50).toFixed(3)} ms  p99 ${percentile(batch.latenciesMs, 99).toFixed(3)} ms${batch.failures > 0 ? `  ${batch.failures} FAILED: ${batch.firstFailure ?? ''}` : ''}`,
        );
      }
    }
    for (const cell of cells) {
      const sample = samples.get(cell.target.name)!;
      exactRows.push({
        name: cell.target.name,
        what: cell.what,
        p50: percentile(sample.latencies, 50),
        p99: percentile(sample.latencies, 99),
        roundP99s: sample.roundP99s,
        ok: sample.latencies.length,
        failures: sample.failures,
        firstFailure: sample.firstFailure,
      });
    }
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  }

  // 2. Semantic lookups, in process, embedding excluded; then the local embedder's own time.
  const sentences = [
    ...new Set(
      loadPairs(join(paraphraseDataDir(repoDir), 'stsb-pairs.jsonl')).flatMap((pair) => [pair.a, pair.b]),
    ),
  ];
  const semanticRows: SemanticLookupResult[] = [];
  for (const entries of semanticSizes) {
    log(`semantic: filling ${entries} entries…`);
    const result = await measureSemanticLookup({ entries, dimensions: 512, lookups: 2_000, sentences });
    semanticRows.push(result);
    log(
      `  ${entries}: hit p99 ${result.hitP99Ms.toFixed(3)} ms, miss p99 ${result.missP99Ms.toFixed(3)} ms, ${formatNumber(result.bytesPerEntry)} B/entry, fill ${result.fillS.toFixed(1)} s`,
    );
  }
  const embedding = await measureLocalEmbedding(sentences.slice(0, 500));
  log(
    `local embedder: p50 ${embedding.p50.toFixed(2)} ms, p99 ${embedding.p99.toFixed(2)} ms per request text`,
  );

  const report = formatReport({
    facts: formatMachineFacts(facts),
    busy:
      facts.loadAverage > facts.cores ? { loadAverage: facts.loadAverage, cores: facts.cores } : undefined,
    exactRows,
    semanticRows,
    embedding,
    requestsPerRound,
    rounds,
    elapsedS: (Date.now() - started) / 1000,
  });
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'cache.md'), report);
  process.stdout.write(report);
}

/** The built-in embedder's time for one request text (what a semantic lookup adds on top). */
async function measureLocalEmbedding(
  texts: readonly string[],
): Promise<{ p50: number; p99: number; loadS: number }> {
  const embedder = createLocalEmbedder();
  const normalizer = createConceptNormalizer();
  const loadStart = performance.now();
  await embedder.embed(['warm up the model']);
  const loadS = (performance.now() - loadStart) / 1000;
  for (const text of texts.slice(0, 50)) await embedder.embed([normalizer.normalize(text)]);
  const times: number[] = [];
  for (const text of texts) {
    const start = performance.now();
    await embedder.embed([normalizer.normalize(text)]);
    times.push(performance.now() - start);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), loadS };
}

export function formatReport(input: {
  facts: string;
  /** Set when the load average at start exceeded the cores: the verdicts say so. */
  busy?: { loadAverage: number; cores: number } | undefined;
  exactRows: ExactRow[];
  semanticRows: SemanticLookupResult[];
  embedding: { p50: number; p99: number; loadS: number };
  requestsPerRound: number;
  rounds: number;
  elapsedS: number;
}): string {
  const { exactRows, semanticRows, embedding } = input;
  const bare = exactRows.find((row) => row.name === 'bare gateway');
  const hit = exactRows.find((row) => row.name === 'exact hit');
  const direct = exactRows.find((row) => row.name === 'direct (sim)');
  const exactHit = judgeExactHit(hit, direct);
  const exactTable = formatMarkdownTable(
    [
      'path',
      'what it measures',
      'p50 ms',
      'p99 ms',
      'p99 per round ms',
      'p50 vs direct',
      'p99 vs direct',
      'ok',
      'failed',
    ],
    exactRows.map((row) => [
      row.name,
      row.what,
      formatNumber(row.p50, 3),
      formatNumber(row.p99, 3),
      row.roundP99s.map((value) => formatNumber(value, 3)).join(' / '),
      direct === undefined || row === direct ? '–' : formatSigned(row.p50 - direct.p50, 3),
      direct === undefined || row === direct ? '–' : formatSigned(row.p99 - direct.p99, 3),
      formatNumber(row.ok),
      formatNumber(row.failures),
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const semanticTable = formatMarkdownTable(
    [
      'entries',
      'hit p50 ms',
      'hit p99 ms',
      'miss p50 ms',
      'miss p99 ms',
      'hit p99 + embedding ms',
      'HNSW recall',
      'JS bytes / entry',
      'RSS growth MB',
      'RSS MB per 100k',
      'fill s',
    ],
    semanticRows.map((row) => [
      formatNumber(row.entries),
      formatNumber(row.hitP50Ms, 3),
      formatNumber(row.hitP99Ms, 3),
      formatNumber(row.missP50Ms, 3),
      formatNumber(row.missP99Ms, 3),
      formatNumber(row.hitP99Ms + embedding.p99, 2),
      `${(row.hitRecall * 100).toFixed(1)}%`,
      formatNumber(row.bytesPerEntry),
      formatNumber(row.rssGrowthMb, 0),
      formatNumber((row.rssGrowthMb * 100_000) / row.entries, 0),
      formatNumber(row.fillS, 1),
    ]),
    ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const largest = semanticRows.at(-1);
  const semantic = judgeSemanticLookup(semanticRows);
  const semanticVerdict =
    semantic.verdict === 'NOT JUDGED'
      ? `the target is at ${formatNumber(cacheTargets.semanticLookupEntries)} entries and this run measured up to ${formatNumber(largest?.entries)} (p99 ${formatNumber(largest === undefined ? undefined : Math.max(largest.hitP99Ms, largest.missP99Ms), 3)} ms there): NOT JUDGED`
      : `p99 ${formatNumber(semantic.p99Ms, 3)} ms at ${formatNumber(semantic.entries)} entries (the slower of hit and miss paths; target under ${cacheTargets.semanticLookupP99Ms} ms): ${semantic.verdict}`;
  const failures = exactRows.filter((row) => row.failures > 0);
  const busyNote =
    input.busy === undefined
      ? ''
      : `The machine was busy (load average ${formatNumber(input.busy.loadAverage, 2)} on ${input.busy.cores} cores at start, other processes running): the tails (p99) measure the machine as much as Pipewright, and a quiet run is the reference for speed.\n\n`;
  return `# Cache speed

Written by \`npm run bench -- cache\` (bench/cache/index.ts) in ${formatNumber(input.elapsedS)} s. The upstream is Pipewright's **simulated** provider (zero delay): no real model is called.

## Machine

${input.facts}

## Verdict

${busyNote}- **Exact hit**: through the gateway against the same request sent straight to the zero-delay upstream (no gateway) in the same rounds, a hit adds ${formatSigned(exactHit.addedP99Ms, 3)} ms at p99 (the median over ${formatNumber(input.rounds)} rounds of the hit's p99 minus the direct call's p99 in that round; target under +${cacheTargets.exactHitAddedP99Ms} ms): ${exactHit.verdict}. Over all requests: p99 ${formatNumber(hit?.p99, 3)} ms for a hit, ${formatNumber(direct?.p99, 3)} ms direct; the gateway with its cache off (calling that upstream) ${formatNumber(bare?.p99, 3)} ms.
- **Semantic lookup**, embedding excluded: ${semanticVerdict}.
- **Memory**: ${formatNumber(largest === undefined ? undefined : (largest.rssGrowthMb * 100_000) / largest.entries, 0)} MB of RSS per 100k semantic entries (512-dimension vectors in the native HNSW index and its graph, texts, answers, bookkeeping); ${formatNumber(largest?.bytesPerEntry)} bytes per entry of it on the JS heap.
${failures.length === 0 ? '' : `\n**Failed requests:** ${failures.map((row) => `${row.name}: ${row.failures} (${row.firstFailure ?? ''})`).join('; ')}\n`}
## Exact cache through the gateway

Each path: ${formatNumber(input.requestsPerRound)} sequential requests on one keep-alive connection per round, ${input.rounds} rounds with the order rotating (after 300 unmeasured requests each); latency from the first byte sent to the last byte received, percentiles over every request. Every answer is checked: a complete chat completion, and \`x-pipewright-cache\` is \`miss\` / \`hit\` where expected. "direct (sim)" sends the same request to the same sim without any gateway. Both gateways are \`pipewright serve\` processes with the same config except \`cache.enabled\`.

${exactTable}

"vs direct" is the difference from calling the upstream directly: the target compares a hit with it (the most a hit may cost over answering at all). The bare gateway is no baseline for a hit: it still calls the upstream, which a hit skips, so a hit beats it even when the cache is slow.

## Semantic lookup

In process, through \`createSemanticCache\`'s own \`lookup\` (namespace hash, concept normalisation, HNSW search of 8 neighbours, precision guard on the best candidates), with all entries in **one namespace** (the worst case: a namespace is tenant + step type + model group + system prompt, so real lookups search fewer). Embedding is excluded by an embedder that returns precomputed vectors; vectors are random 512-dimension unit vectors (no cluster structure, a hard case for HNSW); texts are real STS-B sentences, so the guard does its real work. A hit query is a stored vector nudged to similarity ≈ 0.99; a miss query is a new random vector. 2,000 lookups of each kind.

${semanticTable}

"+ embedding" adds the built-in local embedder's p99 for one request text: ${formatNumber(embedding.p50, 2)} ms p50, ${formatNumber(embedding.p99, 2)} ms p99 (Universal Sentence Encoder on the CPU through TensorFlow.js, first load ${formatNumber(embedding.loadS, 1)} s). A provider embedder costs one embeddings call instead. "JS bytes / entry" is the growth of the JS heap plus buffers after a full GC, divided by the entries; the HNSW index lives in native memory outside it, so "RSS growth" (the process's resident memory while filling) is the whole figure.
`;
}
