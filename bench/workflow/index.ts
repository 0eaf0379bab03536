// Workflow orchestration overhead: no-op nodes run by the workflow runner with durable SQLite
// persistence (every transition committed), against the same functions called directly; and the
// time to resume an interrupted 10,000-node run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '../../src/store/index.ts';
import {
  createWorkflowRunner,
  type NodeCallContext,
  type WorkflowDefinition,
} from '../../src/workflow/index.ts';
import {
  formatMachineFacts,
  formatMarkdownTable,
  formatNumber,
  median,
  readBenchSettings,
  readMachineFacts,
} from '../support/index.ts';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const scratch = join(benchDir, '.tmp', 'workflow');

/** Issue 5: under 1 ms of orchestration overhead per node on SQLite. */
const targetMsPerNode = 1;
const nodeCount = 1_000;
const resumeNodeCount = 10_000;
const concurrency = 64;

type Shape = 'wide' | 'chain';

function definition(
  shape: Shape,
  size: number,
  fn: (input: unknown, call: NodeCallContext) => unknown,
): WorkflowDefinition {
  const nodes: WorkflowDefinition['nodes'] = {};
  for (let index = 0; index < size; index += 1) {
    nodes[`n${index}`] = {
      type: 'transform',
      fn,
      ...(shape === 'chain' && index > 0 ? { after: [`n${index - 1}`] } : {}),
    };
  }
  return { id: `bench-${shape}`, version: 1, context: { fields: {} }, nodes, concurrency };
}

/** The same no-op work without the orchestrator: the baseline each figure is measured against. */
async function runDirect(shape: Shape, size: number, fn: () => unknown): Promise<number> {
  const started = performance.now();
  if (shape === 'chain') for (let index = 0; index < size; index += 1) await fn();
  else await Promise.all(Array.from({ length: size }, async () => fn()));
  return performance.now() - started;
}

interface Sample {
  elapsedMs: number;
  cpuMs: number;
  baselineMs: number;
}

async function measure(shape: Shape, path: string): Promise<Sample> {
  rmSync(path, { force: true });
  const store = await createSqliteStore({ path });
  const runner = createWorkflowRunner({ store: store.workflows, concurrency });
  const noop = () => 1;
  try {
    const flow = definition(shape, nodeCount, noop);
    const baselineMs = await runDirect(shape, nodeCount, noop);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await (await runner.start(flow, {})).result;
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (result.status !== 'succeeded')
      throw new Error(`the ${shape} run ended ${result.status}: ${result.error?.message ?? ''}`);
    return { elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, baselineMs };
  } finally {
    await runner.close();
    await store.close();
  }
}

/** Runs a 10,000-node wide DAG until only its last node is running, stops, and times the resume. */
async function measureResume(path: string): Promise<{ resumeMs: number; finishMs: number }> {
  rmSync(path, { force: true });
  const blocker = `n${resumeNodeCount - 1}`;
  const nodes = definition('wide', resumeNodeCount, () => 1).nodes;
  // The last node starts last (lowest priority) and never finishes in the first process.
  nodes[blocker] = { type: 'transform', fn: 'last', priority: -1 };
  const flow: WorkflowDefinition = {
    id: 'bench-resume',
    version: 1,
    context: { fields: {} },
    nodes,
    concurrency,
  };
  const hang = (_input: unknown, call: NodeCallContext) =>
    new Promise((_, reject) =>
      call.signal.addEventListener('abort', () => reject(call.signal.reason as Error)),
    );

  const firstStore = await createSqliteStore({ path });
  const first = createWorkflowRunner({
    store: firstStore.workflows,
    concurrency,
    functions: { transforms: { last: hang } },
  });
  const handle = await first.start(flow, {}, { runId: 'run_bench_resume' });
  let succeeded = 0;
  for await (const event of first.events(handle.runId)) {
    if (event.type === 'node-succeeded') succeeded += 1;
    if (succeeded === resumeNodeCount - 1) break;
  }
  await first.close();
  await firstStore.close();

  const secondStore = await createSqliteStore({ path });
  const second = createWorkflowRunner({
    store: secondStore.workflows,
    concurrency,
    functions: { transforms: { last: () => 'done' } },
    workflows: [flow],
  });
  try {
    const started = performance.now();
    const resumed = await second.resume(handle.runId);
    const resumeMs = performance.now() - started;
    const result = await resumed.result;
    const finishMs = performance.now() - started;
    if (result.status !== 'succeeded')
      throw new Error(`the resumed run ended ${result.status}: ${result.error?.message ?? ''}`);
    return { resumeMs, finishMs };
  } finally {
    await second.close();
    await secondStore.close();
  }
}

export async function run(): Promise<void> {
  const settings = readBenchSettings(process.env);
  const facts = readMachineFacts(new Date());
  mkdirSync(scratch, { recursive: true });
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const shape of ['wide', 'chain'] as const) {
    const samples: Sample[] = [];
    for (let repeat = 0; repeat < settings.repeats + 1; repeat += 1) {
      const sample = await measure(shape, join(scratch, `${shape}.db`));
      if (repeat > 0) samples.push(sample); // the first run warms up the JIT
      log(
        `${shape}: ${formatNumber(sample.elapsedMs, 0)} ms for ${nodeCount} nodes (direct ${formatNumber(sample.baselineMs, 1)} ms)`,
      );
    }
    const overhead = median(samples.map((sample) => (sample.elapsedMs - sample.baselineMs) / nodeCount));
    const cpu = median(samples.map((sample) => sample.cpuMs / nodeCount));
    rows.push([
      `${nodeCount}-node ${shape}`,
      formatNumber(median(samples.map((sample) => sample.elapsedMs)), 0),
      formatNumber(median(samples.map((sample) => sample.baselineMs)), 1),
      formatNumber(overhead, 3),
      formatNumber(cpu, 3),
    ]);
    verdicts.push(
      `- ${nodeCount}-node ${shape}: ${formatNumber(overhead, 3)} ms of overhead per node — target < ${targetMsPerNode} ms: **${overhead < targetMsPerNode ? 'PASS' : 'FAIL'}**`,
    );
  }

  const resumes: Array<{ resumeMs: number; finishMs: number }> = [];
  for (let repeat = 0; repeat < settings.repeats; repeat += 1) {
    const sample = await measureResume(join(scratch, 'resume.db'));
    resumes.push(sample);
    log(
      `resume of ${resumeNodeCount} nodes: ${formatNumber(sample.resumeMs, 0)} ms to load and schedule, ${formatNumber(sample.finishMs, 0)} ms to finish`,
    );
  }

  const table = formatMarkdownTable(
    ['run', 'elapsed ms', 'direct ms', 'overhead ms/node', 'CPU ms/node'],
    rows,
    ['left', 'right', 'right', 'right', 'right'],
  );
  const resumeTable = formatMarkdownTable(
    ['run', 'resume ms (state loaded, scheduling)', 'until finished ms'],
    [
      [
        `${resumeNodeCount}-node wide, ${resumeNodeCount - 1} succeeded, 1 interrupted`,
        formatNumber(median(resumes.map((sample) => sample.resumeMs)), 0),
        formatNumber(median(resumes.map((sample) => sample.finishMs)), 0),
      ],
    ],
    ['left', 'right', 'right'],
  );
  const report = [
    '# Benchmark: workflow orchestration overhead',
    '',
    formatMachineFacts(facts),
    `- Repeats: ${settings.repeats} (medians; one unmeasured warm-up run per shape)`,
    '',
    `No-op transform nodes, run by \`createWorkflowRunner\` on a SQLite file (WAL, synchronous=NORMAL), every node transition committed with its events (ready, running, succeeded). Runner and run concurrency ${concurrency}. The overhead per node is (elapsed − the same functions called directly) / ${nodeCount}; CPU is the whole process's user + system time per node.`,
    '',
    table,
    '',
    verdicts.join('\n'),
    '',
    `Resume: a ${resumeNodeCount}-node wide run is stopped (runner closed, as in a crash) while its last node runs; a new store and runner on the same file resume it. "resume ms" is \`runner.resume()\` (run, node and context rows read, interrupted node re-queued); "until finished" includes re-running the interrupted node and finishing the run.`,
    '',
    resumeTable,
    '',
  ].join('\n');
  log(`\n${table}\n\n${verdicts.join('\n')}\n\n${resumeTable}`);
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'workflow.md'), report);
  log('\nwrote bench/results/workflow.md');
}
