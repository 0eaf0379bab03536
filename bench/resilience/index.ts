// Resilience under faults: 10,000 requests against the sim with 5% transient failures (500, 503
// and 429 with a 1 s retry-after, in equal parts) on every deployment and a 30-second outage of the
// primary, with a secondary available. Pipewright (retries, breaker, fallback) against direct calls
// to the primary with one naive immediate retry. Time is simulated: the sim and the callers share
// one fake clock, so the outage, latencies, backoffs and open periods are exact and the run takes
// seconds; every request is still a real HTTP call to the sim.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipewrightError } from '../../src/core/index.ts';
import { createEngine } from '../../src/pipewright.ts';
import { createProviderClient, type Deployment } from '../../src/providers/index.ts';
import { createRandom, startSimServer, type SimServer } from '../../src/providers/sim/index.ts';
import type { BreakerTransition } from '../../src/resilience/index.ts';
import { createFakeClock } from '../../test/support/fake-clock.ts';
import {
  formatMachineFacts,
  formatMarkdownTable,
  formatNumber,
  percentile,
  readMachineFacts,
  readNumber,
} from '../support/index.ts';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

const intervalMs = 50;
const outage = { fromMs: 120_000, toMs: 150_000 };

interface ModeResult {
  mode: string;
  requests: number;
  errors: number;
  latencies: number[];
  upstreamCalls: number;
  recoveryMs: number | null;
  errorCodes: Map<string, number>;
}

type Clock = ReturnType<typeof createFakeClock>;

async function startFaultySim(clock: Clock): Promise<SimServer> {
  return startSimServer({
    host: '127.0.0.1',
    port: 0,
    seed: 42,
    clock,
    config: {
      rules: [
        {
          match: { model: 'model-primary' },
          latency: 'uniform(10,40)',
          failureRate: 0.05,
          outages: [outage],
        },
        { match: { model: 'model-secondary' }, latency: 'uniform(15,50)', failureRate: 0.05 },
      ],
    },
  });
}

function deploymentsOf(sim: SimServer): Deployment[] {
  return ['primary', 'secondary'].map((id) => ({
    id,
    provider: 'sim',
    model: `model-${id}`,
    baseUrl: `${sim.url}/v1`,
    apiKey: 'sim-key',
  }));
}

/** Sends `requests` requests one after another, one every `intervalMs` of simulated time (or as soon as the previous ended). */
async function drive(
  clock: Clock,
  requests: number,
  send: (index: number) => Promise<void>,
  onError: (error: unknown) => void,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < requests; index++) {
    const due = index * intervalMs;
    if (clock.elapsed() < due) await clock.advance(due - clock.elapsed());
    const started = clock.elapsed();
    await clock.run(send(index)).catch(onError);
    latencies.push(clock.elapsed() - started);
  }
  return latencies;
}

async function runPipewright(requests: number): Promise<ModeResult> {
  const clock = createFakeClock();
  const sim = await startFaultySim(clock);
  const transitions: Array<BreakerTransition & { atMs: number }> = [];
  const engine = createEngine({
    config: {
      deployments: deploymentsOf(sim).map((deployment) => ({ ...deployment, provider: 'sim' as const })),
      modelGroups: [{ name: 'main', deployments: ['primary', 'secondary'] }],
    },
    clock,
    random: createRandom(7).next,
    onBreakerTransition: (transition) => transitions.push({ ...transition, atMs: clock.elapsed() }),
  });
  const errorCodes = new Map<string, number>();
  let errors = 0;
  try {
    const latencies = await drive(
      clock,
      requests,
      async (index) => {
        await engine.chat({ model: 'main', messages: [{ role: 'user', content: `question ${index}` }] });
      },
      (error) => {
        errors += 1;
        const code = PipewrightError.isInstance(error) ? error.code : 'unknown';
        errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
      },
    );
    const closed = transitions.find(
      (transition) =>
        transition.deployment === 'primary' && transition.to === 'closed' && transition.atMs >= outage.toMs,
    );
    return {
      mode: 'Pipewright (retries, breaker, fallback)',
      requests,
      errors,
      latencies,
      upstreamCalls: sim.stats().total,
      recoveryMs: closed === undefined ? null : closed.atMs - outage.toMs,
      errorCodes,
    };
  } finally {
    await engine.close();
    await sim.close();
  }
}

async function runNaive(requests: number): Promise<ModeResult> {
  const clock = createFakeClock();
  const sim = await startFaultySim(clock);
  const client = createProviderClient({ clock });
  const [primary] = deploymentsOf(sim);
  if (primary === undefined) throw new Error('no primary deployment');
  const errorCodes = new Map<string, number>();
  let errors = 0;
  try {
    const latencies = await drive(
      clock,
      requests,
      async (index) => {
        const request = {
          model: 'model-primary',
          messages: [{ role: 'user' as const, content: `question ${index}` }],
        };
        try {
          await client.chat(request, primary);
        } catch {
          await client.chat(request, primary);
        }
      },
      (error) => {
        errors += 1;
        const code = PipewrightError.isInstance(error) ? error.code : 'unknown';
        errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
      },
    );
    return {
      mode: 'direct, one naive retry (baseline)',
      requests,
      errors,
      latencies,
      upstreamCalls: sim.stats().total,
      recoveryMs: null,
      errorCodes,
    };
  } finally {
    await client.close();
    await sim.close();
  }
}

/**
 * Runs both modes (about a minute), prints the table and writes bench/results/resilience.md.
 * `BENCH_RESILIENCE_REQUESTS` changes the number of requests (default 10,000; at least 4,000 so
 * that the outage falls inside the run).
 *
 * @example
 * // BENCH_RESILIENCE_REQUESTS=4000 npm run bench -- resilience
 * await run();
 */
export async function run(): Promise<void> {
  // At least 4,000 so that the outage falls inside the run; a bad value is an error, not a silent default.
  const requests = readNumber(process.env, 'BENCH_RESILIENCE_REQUESTS', 10_000, {
    min: 4_000,
    integer: true,
  });
  const started = Date.now();
  const results = [await runPipewright(requests), await runNaive(requests)];
  const rows = results.map((result) => [
    result.mode,
    formatNumber(result.requests),
    `${formatNumber((100 * result.errors) / result.requests, 2)}%`,
    formatNumber(percentile(result.latencies, 50)),
    formatNumber(percentile(result.latencies, 99)),
    `${formatNumber((100 * (result.upstreamCalls - result.requests)) / result.requests, 1)}%`,
    result.recoveryMs === null ? '–' : formatNumber(result.recoveryMs / 1000, 1),
    [...result.errorCodes].map(([code, count]) => `${code} ×${count}`).join(', ') || '–',
  ]);
  const table = formatMarkdownTable(
    [
      'mode',
      'requests',
      'delivered errors',
      'p50 ms',
      'p99 ms',
      'extra upstream calls',
      'breaker closed after outage (s)',
      'errors by code',
    ],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const ours = results[0];
  const verdict =
    ours === undefined
      ? []
      : [
          `- delivered error rate under 0.3%: ${(100 * ours.errors) / ours.requests < 0.3 ? 'PASS' : 'FAIL'} (${formatNumber((100 * ours.errors) / ours.requests, 2)}%)`,
          `- breaker closed within 15 s of the outage's end: ${ours.recoveryMs !== null && ours.recoveryMs < 15_000 ? 'PASS' : 'FAIL'} (${ours.recoveryMs === null ? 'never' : `${formatNumber(ours.recoveryMs / 1000, 1)} s`})`,
        ];
  const facts = readMachineFacts(new Date());
  const report = [
    '# Resilience under faults',
    '',
    `${formatNumber(requests)} chat requests, one every ${intervalMs} ms of simulated time, against the sim (simulated: no model is called).`,
    `Every deployment fails 5% of calls (500, 503, 429 with a 1 s retry-after in equal parts); the primary is down from ${outage.fromMs / 1000} s to ${outage.toMs / 1000} s.`,
    'Latencies are simulated time (sim latency uniform(10,40) ms primary, uniform(15,50) ms secondary, plus retry waits); the sim and the callers share one fake clock, every request is a real HTTP call.',
    'Pipewright runs with its default policies (3 tries per deployment, full-jitter backoff, retry-after honoured, breaker opening after 5 consecutive failures or 50% of 10 calls, 5 s open period doubling).',
    '',
    table,
    '',
    'Targets (issue 3): under 0.3% delivered errors, breaker closed under 15 s after the outage.',
    ...verdict,
    '',
    formatMachineFacts(facts),
    '',
    `The run took ${formatNumber((Date.now() - started) / 1000, 1)} s of real time.`,
  ].join('\n');
  process.stdout.write(`${table}\n\n${verdict.join('\n')}\n`);
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'resilience.md'), `${report}\n`);
  process.stdout.write(`\nwrote ${join(resultsDir, 'resilience.md')}\n`);
}
