import { formatNumber, formatSigned } from '../support/index.ts';
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
 * The two targets of this benchmark, each PASS/FAIL from figures of the same run. A cell with
 * any failed request fails its target whatever its speed.
 *
 * @example
 * const verdicts = judgeTargets(cells, firstBytes, { portkeyAvailable: true });
 */
export function judgeTargets(
  cells: readonly CellSummary[],
  firstBytes: readonly FirstByteSummary[],
  options: { portkeyAvailable: boolean },
): TargetVerdict[] {
  return [judgeRpsRatio(cells, options.portkeyAvailable), judgeAddedStreamLatency(cells, firstBytes)];
}

function judgeRpsRatio(cells: readonly CellSummary[], portkeyAvailable: boolean): TargetVerdict {
  const target = `Pipewright RPS at concurrency 16 (non-streaming) ≥ ${minimumRpsRatio}× Portkey's`;
  const pipewright = findCell(cells, 'pipewright', false, 16);
  const portkey = findCell(cells, 'portkey', false, 16);
  if (!portkeyAvailable)
    return { target, measured: 'Portkey unavailable in this run', verdict: 'NOT JUDGED' };
  if (pipewright === undefined || portkey === undefined)
    return { target, measured: 'concurrency 16 not measured (BENCH_CONCURRENCY)', verdict: 'NOT JUDGED' };
  const ratio = pipewright.rps / portkey.rps;
  const failures = countFailures(pipewright);
  // No gateway can be faster than no gateway: direct/Portkey bounds the ratio reachable on this machine.
  const direct = findCell(cells, 'direct', false, 16);
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
  const target = `Pipewright adds < ${maximumAddedStreamP50Ms} ms p50 to a stream at concurrency 1 (full response, vs direct)`;
  const cell = findCell(cells, 'pipewright', true, 1);
  const loop = firstBytes.find((summary) => summary.target === 'pipewright');
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
