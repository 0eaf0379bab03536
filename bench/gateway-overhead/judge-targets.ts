import { formatNumber, formatSigned } from '../support/index.ts';
import { requestKinds, type RequestKind } from './chat-request.ts';
import { countFailures, findCell, type CellSummary, type FirstByteSummary } from './summarize-samples.ts';

export type Verdict = 'PASS' | 'FAIL' | 'NOT JUDGED';

export interface TargetVerdict {
  target: string;
  measured: string;
  verdict: Verdict;
}

/** Pipewright RPS at concurrency 16 (non-streaming) must be at least this many times Portkey's. */
export const minimumRpsRatio = 4;
/** Pipewright may add less than this to a stream's p50 full-response latency at concurrency 1. */
export const maximumAddedStreamP50Ms = 2;
/**
 * Against the baseline commit (issue 9): whole answers "no worse" at concurrency 16 — CPU per
 * request at most this factor of the baseline's, RPS at least its inverse (5% for the noise of a
 * shared machine) — and a stream's CPU per request at most two thirds of the baseline's.
 */
export const noWorseTolerance = 1.05;
export const maximumStreamCpuRatio = 2 / 3;

/**
 * The targets of this benchmark, each PASS/FAIL from figures of the same run: the two standing
 * ones on the tiny request, and with a baseline commit, issue 9's before/after targets on every
 * request measured. A cell with any failed request fails its target whatever its speed.
 *
 * @example
 * const verdicts = judgeTargets(cells, firstBytes, { portkeyAvailable: true, baselineRef: undefined });
 */
export function judgeTargets(
  cells: readonly CellSummary[],
  firstBytes: readonly FirstByteSummary[],
  options: { portkeyAvailable: boolean; baselineRef: string | undefined },
): TargetVerdict[] {
  const verdicts = [
    judgeRpsRatio(cells, options.portkeyAvailable),
    judgeAddedStreamLatency(cells, firstBytes),
  ];
  if (options.baselineRef !== undefined) {
    for (const request of requestKinds) {
      if (!cells.some((cell) => cell.request === request)) continue;
      verdicts.push(
        judgeAgainstBaseline(cells, request, false, options.baselineRef),
        judgeAgainstBaseline(cells, request, true, options.baselineRef),
      );
    }
  }
  return verdicts;
}

function judgeAgainstBaseline(
  cells: readonly CellSummary[],
  request: RequestKind,
  stream: boolean,
  baselineRef: string,
): TargetVerdict {
  const target = stream
    ? `${request} request, streams, concurrency 16: CPU per request ≤ ${formatNumber(maximumStreamCpuRatio, 2)}× ${baselineRef}'s`
    : `${request} request, whole answers, concurrency 16: CPU per request and RPS no worse than ${baselineRef}'s (±${formatNumber((noWorseTolerance - 1) * 100, 0)}%)`;
  const current = findCell(cells, 'pipewright', stream, 16, request);
  const baseline = findCell(cells, 'baseline', stream, 16, request);
  if (current === undefined || baseline === undefined)
    return { target, measured: 'concurrency 16 not measured for both', verdict: 'NOT JUDGED' };
  const cpuRatio = current.cpuMsPerRequest / baseline.cpuMsPerRequest;
  const rpsRatio = current.rps / baseline.rps;
  const failures = countFailures(current) + countFailures(baseline);
  const measured =
    `CPU ${formatNumber(current.cpuMsPerRequest, 3)} vs ${formatNumber(baseline.cpuMsPerRequest, 3)} ms/req = ${formatNumber(cpuRatio, 2)}×; ` +
    `RPS ${formatNumber(current.rps)} vs ${formatNumber(baseline.rps)} = ${formatNumber(rpsRatio, 2)}×` +
    (failures > 0 ? `; ${failures} failed requests` : '');
  const passed = stream
    ? cpuRatio <= maximumStreamCpuRatio
    : cpuRatio <= noWorseTolerance && rpsRatio >= 1 / noWorseTolerance;
  return { target, measured, verdict: failures === 0 && passed ? 'PASS' : 'FAIL' };
}

function judgeRpsRatio(cells: readonly CellSummary[], portkeyAvailable: boolean): TargetVerdict {
  const target = `Pipewright RPS at concurrency 16 (non-streaming, tiny request) ≥ ${minimumRpsRatio}× Portkey's`;
  const pipewright = findCell(cells, 'pipewright', false, 16, 'tiny');
  const portkey = findCell(cells, 'portkey', false, 16, 'tiny');
  if (!portkeyAvailable)
    return { target, measured: 'Portkey unavailable in this run', verdict: 'NOT JUDGED' };
  if (pipewright === undefined || portkey === undefined)
    return { target, measured: 'concurrency 16 not measured (BENCH_CONCURRENCY)', verdict: 'NOT JUDGED' };
  const ratio = pipewright.rps / portkey.rps;
  const failures = countFailures(pipewright);
  // No gateway can be faster than no gateway: direct/Portkey bounds the ratio reachable on this machine.
  const direct = findCell(cells, 'direct', false, 16, 'tiny');
  const ceiling =
    direct === undefined
      ? ''
      : ` (ceiling here: direct ${formatNumber(direct.rps)} RPS = ${formatNumber(direct.rps / portkey.rps, 2)}× Portkey)`;
  const cpu = `; CPU per request ${formatNumber(pipewright.cpuMsPerRequest, 3)} vs ${formatNumber(portkey.cpuMsPerRequest, 3)} ms = ${formatNumber(portkey.cpuMsPerRequest / pipewright.cpuMsPerRequest, 2)}× less`;
  const measured = `${formatNumber(pipewright.rps)} vs ${formatNumber(portkey.rps)} RPS = ${formatNumber(ratio, 2)}×${ceiling}${cpu}${failures > 0 ? `; ${failures} failed Pipewright requests` : ''}${countFailures(portkey) > 0 ? `; ${countFailures(portkey)} failed Portkey requests` : ''}`;
  return { target, measured, verdict: failures === 0 && ratio >= minimumRpsRatio ? 'PASS' : 'FAIL' };
}

function judgeAddedStreamLatency(
  cells: readonly CellSummary[],
  firstBytes: readonly FirstByteSummary[],
): TargetVerdict {
  const target = `Pipewright adds < ${maximumAddedStreamP50Ms} ms p50 to a stream at concurrency 1 (tiny request, full response, vs direct)`;
  const cell = findCell(cells, 'pipewright', true, 1, 'tiny');
  const loop = firstBytes.find((summary) => summary.target === 'pipewright' && summary.request === 'tiny');
  const loopText =
    loop === undefined
      ? ''
      : `; sequential loop: ${formatSigned(loop.addedTotalP50Ms)} ms full, ${formatSigned(loop.addedFirstByteP50Ms)} ms first byte`;
  if (cell === undefined) {
    if (loop === undefined) return { target, measured: 'not measured', verdict: 'NOT JUDGED' };
    // Without a concurrency-1 load cell, the sequential loop's full-response latency decides.
    const verdict: Verdict =
      loop.failures === 0 && loop.addedTotalP50Ms < maximumAddedStreamP50Ms ? 'PASS' : 'FAIL';
    return {
      target,
      measured: `${formatSigned(loop.addedTotalP50Ms)} ms (sequential loop)${loop.failures > 0 ? `; ${loop.failures} failed` : ''}`,
      verdict,
    };
  }
  const failures = countFailures(cell);
  const measured = `${formatSigned(cell.addedP50Ms)} ms (autocannon, ${formatNumber(cell.p50Ms, 2)} ms p50)${loopText}${failures > 0 ? `; ${failures} failed requests` : ''}`;
  return {
    target,
    measured,
    verdict: failures === 0 && cell.addedP50Ms < maximumAddedStreamP50Ms ? 'PASS' : 'FAIL',
  };
}
