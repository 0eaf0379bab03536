import {
  formatMachineFacts,
  formatMarkdownTable,
  formatNumber,
  formatSigned,
  type BenchSettings,
  type ColumnAlign,
  type GitCheckout,
  type MachineFacts,
} from '../support/index.ts';
import { requestKinds, type RequestKind, type RequestShape } from './chat-request.ts';
import { honoNodeServerVersion, portkeyVersion } from './install-portkey.ts';
import type { TargetVerdict } from './judge-targets.ts';
import type { TargetName } from './start-targets.ts';
import { countFailures, findCell, type CellSummary, type FirstByteSummary } from './summarize-samples.ts';

export interface GatewayOverheadReport {
  facts: MachineFacts;
  settings: BenchSettings;
  cells: CellSummary[];
  firstBytes: FirstByteSummary[];
  verdicts: TargetVerdict[];
  /** What each request measured looked like, read from the sim before the run. */
  shapes: RequestShape[];
  portkey: { available: true } | { available: false; reason: string };
  /** Pipewright from another commit, measured in the same run (`BENCH_BASELINE_REF`). */
  baseline: GitCheckout | undefined;
  /** Why this run's figures are not results (a quick look, a profiled run), or undefined. */
  caveat: string | undefined;
  /** Anything that went wrong during the run (a target that exited, a skipped cell). */
  notes: string[];
  elapsedS: number;
}

const targetOrder: readonly TargetName[] = ['direct', 'baseline', 'pipewright', 'portkey'];

/** How a target is named in tables; the baseline by its ref. */
export function labelTarget(target: TargetName, baseline: Pick<GitCheckout, 'ref'> | undefined): string {
  switch (target) {
    case 'direct':
      return 'direct (sim)';
    case 'pipewright':
      return baseline === undefined ? 'Pipewright' : 'Pipewright (working tree)';
    case 'baseline':
      return `Pipewright @ ${baseline?.ref ?? 'baseline'}`;
    case 'portkey':
      return 'Portkey';
  }
}

/**
 * The load table of one request and mode (streaming or not), one row per target and concurrency.
 *
 * @example
 * console.log(formatLoadTable(cells, false, 'tiny', undefined));
 */
export function formatLoadTable(
  cells: readonly CellSummary[],
  stream: boolean,
  request: RequestKind,
  baseline: Pick<GitCheckout, 'ref'> | undefined,
): string {
  const headers = [
    'target',
    'conc',
    'RPS',
    'p50 ms',
    'p99 ms',
    '+p50 ms',
    '+p99 ms',
    'CPU ms/req',
    'RSS MB',
    'ok',
    'non-2xx',
    'errors',
    'bad body',
  ];
  const align: ColumnAlign[] = ['left', ...Array<ColumnAlign>(headers.length - 1).fill('right')];
  const rows = cells
    .filter((cell) => cell.stream === stream && cell.request === request)
    .sort(
      (a, b) =>
        a.connections - b.connections || targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target),
    )
    .map((cell) => [
      labelTarget(cell.target, baseline),
      String(cell.connections),
      formatNumber(cell.rps),
      formatNumber(cell.p50Ms, 2),
      formatNumber(cell.p99Ms, 2),
      formatSigned(cell.addedP50Ms),
      formatSigned(cell.addedP99Ms),
      formatNumber(cell.cpuMsPerRequest, 3),
      formatNumber(cell.rssBytes / 1024 / 1024, 0),
      formatNumber(cell.ok),
      formatNumber(cell.non2xx),
      formatNumber(cell.errors),
      formatNumber(cell.badBodies),
    ]);
  return formatMarkdownTable(headers, rows, align);
}

/**
 * The first-byte table of one request: sequential streams at concurrency 1.
 *
 * @example
 * console.log(formatFirstByteTable(firstBytes, 'tiny', undefined));
 */
export function formatFirstByteTable(
  firstBytes: readonly FirstByteSummary[],
  request: RequestKind,
  baseline: Pick<GitCheckout, 'ref'> | undefined,
): string {
  const headers = [
    'target',
    'first byte p50 ms',
    'first byte p99 ms',
    '+first byte p50 ms',
    'full p50 ms',
    'full p99 ms',
    '+full p50 ms',
    'ok',
    'failed',
  ];
  const align: ColumnAlign[] = ['left', ...Array<ColumnAlign>(headers.length - 1).fill('right')];
  const rows = firstBytes
    .filter((summary) => summary.request === request)
    .sort((a, b) => targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target))
    .map((summary) => [
      labelTarget(summary.target, baseline),
      formatNumber(summary.firstByteP50Ms, 2),
      formatNumber(summary.firstByteP99Ms, 2),
      formatSigned(summary.addedFirstByteP50Ms),
      formatNumber(summary.totalP50Ms, 2),
      formatNumber(summary.totalP99Ms, 2),
      formatSigned(summary.addedTotalP50Ms),
      formatNumber(summary.ok),
      formatNumber(summary.failures),
    ]);
  return formatMarkdownTable(headers, rows, align);
}

/**
 * The verdict table.
 *
 * @example
 * console.log(formatVerdictTable(verdicts));
 */
export function formatVerdictTable(verdicts: readonly TargetVerdict[]): string {
  return formatMarkdownTable(
    ['target', 'measured', 'result'],
    verdicts.map((verdict) => [verdict.target, verdict.measured, `**${verdict.verdict}**`]),
  );
}

/**
 * What each request looked like on the wire (answered by the sim directly).
 *
 * @example
 * console.log(formatShapeTable(shapes));
 */
export function formatShapeTable(shapes: readonly RequestShape[]): string {
  return formatMarkdownTable(
    [
      'request',
      'request bytes',
      'prompt tokens',
      'answer tokens',
      'whole answer bytes',
      'stream bytes',
      'stream chunks',
    ],
    shapes.map((shape) => [
      shape.kind,
      formatNumber(shape.requestBytes),
      formatNumber(shape.promptTokens),
      formatNumber(shape.completionTokens),
      formatNumber(shape.wholeBytes),
      formatNumber(shape.streamBytes),
      formatNumber(shape.streamChunks),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

const concurrenciesOf = (cells: readonly CellSummary[]) =>
  [...new Set(cells.map((cell) => cell.connections))].sort((a, b) => a - b);

/**
 * The working tree against the baseline commit, cell by cell: RPS and CPU per request side by
 * side, with the ratios (current / baseline).
 *
 * @example
 * console.log(formatBaselineTable(cells, baseline));
 */
export function formatBaselineTable(
  cells: readonly CellSummary[],
  baseline: Pick<GitCheckout, 'ref'>,
): string {
  const rows: string[][] = [];
  for (const request of requestKinds) {
    for (const stream of [false, true]) {
      for (const connections of concurrenciesOf(cells)) {
        const current = findCell(cells, 'pipewright', stream, connections, request);
        const before = findCell(cells, 'baseline', stream, connections, request);
        if (current === undefined || before === undefined) continue;
        rows.push([
          request,
          stream ? 'stream' : 'whole',
          String(connections),
          formatNumber(before.rps),
          formatNumber(current.rps),
          `${formatNumber(current.rps / before.rps, 2)}×`,
          formatNumber(before.cpuMsPerRequest, 3),
          formatNumber(current.cpuMsPerRequest, 3),
          `${formatNumber(current.cpuMsPerRequest / before.cpuMsPerRequest, 2)}×`,
          `${formatSigned(before.addedP50Ms)} → ${formatSigned(current.addedP50Ms)}`,
          formatNumber(before.rssBytes / 1024 / 1024, 0),
          formatNumber(current.rssBytes / 1024 / 1024, 0),
        ]);
      }
    }
  }
  return formatMarkdownTable(
    [
      'request',
      'mode',
      'conc',
      `RPS @ ${baseline.ref}`,
      'RPS now',
      'RPS now / before',
      `CPU ms/req @ ${baseline.ref}`,
      'CPU ms/req now',
      'CPU now / before',
      '+p50 ms before → now',
      'RSS MB before',
      'RSS MB now',
    ],
    rows,
    ['left', 'left', ...Array<ColumnAlign>(10).fill('right')],
  );
}

/**
 * Pipewright against Portkey, cell by cell: throughput and CPU per request, from the same run.
 *
 * @example
 * console.log(formatRatioTable(cells));
 */
export function formatRatioTable(cells: readonly CellSummary[]): string {
  const rows: string[][] = [];
  for (const request of requestKinds) {
    for (const stream of [false, true]) {
      for (const connections of concurrenciesOf(cells)) {
        const pipewright = findCell(cells, 'pipewright', stream, connections, request);
        const portkey = findCell(cells, 'portkey', stream, connections, request);
        const direct = findCell(cells, 'direct', stream, connections, request);
        if (pipewright === undefined) continue;
        rows.push([
          request,
          stream ? 'stream' : 'whole',
          String(connections),
          direct === undefined ? '–' : `${formatNumber((pipewright.rps / direct.rps) * 100, 0)} %`,
          portkey === undefined ? '–' : `${formatNumber(pipewright.rps / portkey.rps, 2)}×`,
          portkey === undefined
            ? '–'
            : `${formatNumber(portkey.cpuMsPerRequest / pipewright.cpuMsPerRequest, 2)}×`,
          portkey === undefined
            ? '–'
            : `${formatSigned(pipewright.addedP50Ms)} vs ${formatSigned(portkey.addedP50Ms)}`,
        ]);
      }
    }
  }
  return formatMarkdownTable(
    [
      'request',
      'mode',
      'conc',
      'Pipewright RPS / direct',
      'Pipewright RPS / Portkey',
      'Portkey CPU / Pipewright CPU',
      '+p50 ms Pipewright vs Portkey',
    ],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
}

const requestTitles: Record<RequestKind, string> = {
  tiny: 'Tiny request',
  realistic: 'Realistic request',
};

/**
 * The whole results file, bench/results/gateway-overhead.md.
 *
 * @example
 * writeFileSync('bench/results/gateway-overhead.md', formatReport(report));
 */
export function formatReport(report: GatewayOverheadReport): string {
  const { settings, baseline } = report;
  const label = (target: TargetName) => labelTarget(target, baseline);
  const failures = report.cells.filter((cell) => countFailures(cell) > 0);
  const failureLines = failures.map(
    (cell) =>
      `- ${label(cell.target)}, ${cell.request} request, ${cell.stream ? 'stream' : 'whole'}, concurrency ${cell.connections}: ${cell.non2xx} non-2xx, ${cell.errors} errors, ${cell.badBodies} bad bodies; status codes ${JSON.stringify(cell.statusCodes)}`,
  );
  for (const summary of report.firstBytes) {
    if (summary.failures > 0)
      failureLines.push(
        `- ${label(summary.target)}, ${summary.request} request, first-byte loop: ${summary.failures} failed; first: ${summary.firstFailure ?? '?'}`,
      );
  }
  const measured = requestKinds.filter((request) => report.cells.some((cell) => cell.request === request));
  const sections = measured.map(
    (request) => `## ${requestTitles[request]}

### Whole answers (non-streaming)

${formatLoadTable(report.cells, false, request, baseline)}

### Streams

${formatLoadTable(report.cells, true, request, baseline)}

### Streams at concurrency 1: time to first byte

${report.firstBytes.some((summary) => summary.request === request) ? formatFirstByteTable(report.firstBytes, request, baseline) : '(not measured)'}
`,
  );
  const baselineSection =
    baseline === undefined
      ? ''
      : `
## Working tree against ${baseline.ref}

Both gateways ran side by side in this run, against the same sim, under the same load generator.
Ratios are now / before: RPS above 1 and CPU below 1 are improvements.

${formatBaselineTable(report.cells, baseline)}
`;
  return `# Gateway overhead: Pipewright${baseline === undefined ? '' : ` (working tree and ${baseline.ref})`} vs Portkey vs direct
${report.caveat === undefined ? '' : `\n> **${report.caveat}**\n`}
What it costs to put a gateway between an application and a model provider: requests per second,
latency added to each answer, CPU spent per request and memory, for whole (non-streaming) answers
and for streams. The upstream is Pipewright's **simulated** provider (\`pipewright sim\`, zero delay,
deterministic answers) — no real model is called — so every millisecond and every CPU cycle above
"direct" is the gateway's own.

Run with \`npm run bench -- gateway-overhead\` (${formatNumber(report.elapsedS)} s for this run).

## Machine

${formatMachineFacts(report.facts)}

## Method

- Processes besides the load generator: the sim (\`bin/pipewright.js sim\`), Pipewright
  (\`bin/pipewright.js serve\` with a config whose model group points at the sim through the OpenAI
  adapter, SQLite store in a temporary file, log level info)${
    baseline === undefined
      ? ''
      : `, Pipewright at \`${baseline.ref}\` (commit ${baseline.sha.slice(0, 12)}, a git worktree in \`${baseline.dir.replace(/^.*\/bench\//, 'bench/')}\`, ${baseline.install}) started the same way with the same config`
  } and the Portkey gateway
  ${report.portkey.available ? `(\`@portkey-ai/gateway@${portkeyVersion}\` with \`@hono/node-server@${honoNodeServerVersion}\`, installed on demand into \`bench/.tmp/portkey/\`, \`--headless\`, headers \`x-portkey-provider: openai\` and \`x-portkey-custom-host\` pointing at the sim)` : `(**unavailable in this run**: ${report.portkey.reason})`}.
- The requests, the same for every target, to \`gpt-4o-mini\`; streams add \`stream: true,
  stream_options: {include_usage: true}\`. **tiny**: a one-line system prompt and a one-line question,
  \`max_tokens\` 64. **realistic**: a five-sentence system prompt, a paragraph-long question,
  \`max_tokens\` 256, and an answer of about 200 tokens asked of the sim. As the sim answered them:

${formatShapeTable(report.shapes)}

- Load from autocannon (programmatic API) in the benchmark's own process: each cell is
  ${settings.warmupS} s of warm-up, then ${settings.durationS} s measured, at ${settings.concurrencies.join(', ')} concurrent connection(s)
  (one request in flight each). Every cell is measured ${settings.repeats} time(s); the targets take turns inside
  each repeat (the order rotates) so drift on a shared machine hits all of them alike.
- Figures are medians over repeats. **RPS** counts only real answers: status 2xx and a body that is
  a complete chat completion, or for streams chunks + a usage chunk + \`data: [DONE]\` at the end.
  Latency is from the first byte sent to the last byte received, percentiles over every request
  (not autocannon's whole-millisecond histogram). **+p50 / +p99** are the differences from the
  direct run of the same repeat, then the median of those differences.
- **CPU ms/req** is the measured process's user+system CPU time over the cell (\`/proc/<pid>/stat\`)
  divided by its answers: the gateway's for the gateways, **the sim's** for the direct rows
  (what the upstream itself costs). **RSS** is \`VmRSS\` after the cell, the highest over repeats.
- **ok / non-2xx / errors / bad body** are sums over all repeats, so a failed request is never
  hidden by a median.
- First byte: ${settings.firstByteRequests} sequential streaming requests per target, request and repeat on one keep-alive
  connection (undici), after 20 unmeasured ones, timing the first body chunk and the end of the stream.
- The machine has ${report.facts.cores} cores shared by the sim, the gateways and the load generator: absolute
  numbers are low and noisy; the ratios within one run are the result.

${sections.join('\n')}
## Targets

${formatVerdictTable(report.verdicts)}
${baselineSection}
## Ratios against Portkey

A gateway process runs its JavaScript on one thread, so once it is saturated its RPS is about
1000 / (CPU ms per request): the CPU ratio is the RPS ratio to expect when both gateways are the
bottleneck, and it is less sensitive than RPS to what else the machine is doing.

${formatRatioTable(report.cells)}

## Failed requests

${failureLines.length === 0 ? 'None: every request in every cell got a real answer.' : failureLines.join('\n')}
${report.notes.length === 0 ? '' : `\n## Notes\n\n${report.notes.map((note) => `- ${note}`).join('\n')}\n`}`;
}
