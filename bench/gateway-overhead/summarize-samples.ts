import { median, type LoadResult, type StreamTimingResult } from '../support/index.ts';
import type { RequestKind } from './chat-request.ts';
import type { TargetName } from './start-targets.ts';

/** One measured cell of one repeat. */
export interface LoadSample {
  repeat: number;
  target: TargetName;
  request: RequestKind;
  stream: boolean;
  connections: number;
  load: LoadResult;
  /** CPU ms of the measured process (gateway; sim for direct) over the cell, per answer. */
  cpuMsPerRequest: number;
  /** RSS of the measured process right after the cell. */
  rssBytes: number;
}

export interface FirstByteSample {
  repeat: number;
  target: TargetName;
  request: RequestKind;
  timing: StreamTimingResult;
}

/** Medians over repeats of one (target, request, stream, concurrency) cell. */
export interface CellSummary {
  target: TargetName;
  request: RequestKind;
  stream: boolean;
  connections: number;
  repeats: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median over repeats of (this p50 − direct p50 in the same repeat); NaN for direct. */
  addedP50Ms: number;
  addedP99Ms: number;
  cpuMsPerRequest: number;
  /** Highest RSS seen after the cell across repeats. */
  rssBytes: number;
  /** Sums over repeats, so no failure hides behind a median. */
  ok: number;
  non2xx: number;
  errors: number;
  badBodies: number;
  statusCodes: Record<string, number>;
}

export interface FirstByteSummary {
  target: TargetName;
  request: RequestKind;
  firstByteP50Ms: number;
  firstByteP99Ms: number;
  totalP50Ms: number;
  totalP99Ms: number;
  addedFirstByteP50Ms: number;
  addedTotalP50Ms: number;
  ok: number;
  failures: number;
  firstFailure?: string;
}

/**
 * Folds repeats into one summary per cell; added latency is paired with the direct run of the
 * same repeat, so drift on a noisy machine cancels out.
 *
 * @example
 * const cells = summarizeLoadSamples(samples);
 */
export function summarizeLoadSamples(samples: readonly LoadSample[]): CellSummary[] {
  const groups = new Map<string, LoadSample[]>();
  for (const sample of samples) {
    const key = cellKey(sample.target, sample.request, sample.stream, sample.connections);
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const directOf = (sample: LoadSample) =>
    samples.find(
      (other) =>
        other.target === 'direct' &&
        other.request === sample.request &&
        other.stream === sample.stream &&
        other.connections === sample.connections &&
        other.repeat === sample.repeat,
    );
  return [...groups.values()].map((group) => {
    const first = group[0];
    if (first === undefined) throw new Error('summarizeLoadSamples: empty group');
    const added = (pick: (load: LoadResult) => number) =>
      first.target === 'direct'
        ? Number.NaN
        : median(
            group.flatMap((sample) => {
              const direct = directOf(sample);
              return direct === undefined ? [] : [pick(sample.load) - pick(direct.load)];
            }),
          );
    const statusCodes: Record<string, number> = {};
    for (const sample of group)
      for (const [code, count] of Object.entries(sample.load.statusCodes))
        statusCodes[code] = (statusCodes[code] ?? 0) + count;
    const sum = (pick: (load: LoadResult) => number) =>
      group.reduce((total, sample) => total + pick(sample.load), 0);
    return {
      target: first.target,
      request: first.request,
      stream: first.stream,
      connections: first.connections,
      repeats: group.length,
      rps: median(group.map((sample) => sample.load.rps)),
      p50Ms: median(group.map((sample) => sample.load.p50Ms)),
      p99Ms: median(group.map((sample) => sample.load.p99Ms)),
      addedP50Ms: added((load) => load.p50Ms),
      addedP99Ms: added((load) => load.p99Ms),
      cpuMsPerRequest: median(group.map((sample) => sample.cpuMsPerRequest)),
      rssBytes: Math.max(...group.map((sample) => sample.rssBytes)),
      ok: sum((load) => load.ok),
      non2xx: sum((load) => load.non2xx),
      errors: sum((load) => load.errors),
      badBodies: sum((load) => load.badBodies),
      statusCodes,
    };
  });
}

/**
 * Folds the repeats of the first-byte loop into one summary per target and request.
 *
 * @example
 * const firstBytes = summarizeFirstByteSamples(samples);
 */
export function summarizeFirstByteSamples(samples: readonly FirstByteSample[]): FirstByteSummary[] {
  const keys = [...new Set(samples.map((sample) => `${sample.target}|${sample.request}`))];
  return keys.map((key) => {
    const [target, request] = key.split('|') as [TargetName, RequestKind];
    const group = samples.filter((sample) => sample.target === target && sample.request === request);
    const added = (pick: (timing: StreamTimingResult) => number) =>
      target === 'direct'
        ? Number.NaN
        : median(
            group.flatMap((sample) => {
              const direct = samples.find(
                (other) =>
                  other.target === 'direct' && other.request === request && other.repeat === sample.repeat,
              );
              return direct === undefined ? [] : [pick(sample.timing) - pick(direct.timing)];
            }),
          );
    const firstFailure = group.find((sample) => sample.timing.firstFailure !== undefined)?.timing
      .firstFailure;
    return {
      target,
      request,
      firstByteP50Ms: median(group.map((sample) => sample.timing.firstByteP50Ms)),
      firstByteP99Ms: median(group.map((sample) => sample.timing.firstByteP99Ms)),
      totalP50Ms: median(group.map((sample) => sample.timing.totalP50Ms)),
      totalP99Ms: median(group.map((sample) => sample.timing.totalP99Ms)),
      addedFirstByteP50Ms: added((timing) => timing.firstByteP50Ms),
      addedTotalP50Ms: added((timing) => timing.totalP50Ms),
      ok: group.reduce((total, sample) => total + sample.timing.ok, 0),
      failures: group.reduce((total, sample) => total + sample.timing.failures, 0),
      ...(firstFailure === undefined ? {} : { firstFailure }),
    };
  });
}

/**
 * Finds the summary of one cell.
 *
 * @example
 * findCell(cells, 'pipewright', false, 16, 'tiny')?.rps;
 */
export function findCell(
  cells: readonly CellSummary[],
  target: TargetName,
  stream: boolean,
  connections: number,
  request: RequestKind,
): CellSummary | undefined {
  return cells.find(
    (cell) =>
      cell.target === target &&
      cell.request === request &&
      cell.stream === stream &&
      cell.connections === connections,
  );
}

/** Non-2xx answers, transport errors and bad bodies of a cell. */
export function countFailures(cell: Pick<CellSummary, 'non2xx' | 'errors' | 'badBodies'>): number {
  return cell.non2xx + cell.errors + cell.badBodies;
}

function cellKey(target: TargetName, request: RequestKind, stream: boolean, connections: number): string {
  return `${target}|${request}|${stream ? 'stream' : 'whole'}|${connections}`;
}
