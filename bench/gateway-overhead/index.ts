// Gateway overhead: Pipewright and the Portkey gateway against the sim called directly, all in
// their own processes, measured in one run so every figure is relative to a same-run baseline.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createProcessUsageReader,
  formatMarkdownTable,
  formatNumber,
  measureStreamTiming,
  prepareGitCheckout,
  readBenchSettings,
  readMachineFacts,
  runLoad,
  summarizeCpuProfile,
  type GitCheckout,
  type ProcessUsageReader,
  type ProfileEntry,
} from '../support/index.ts';
import {
  answerLengthMarker,
  createChatBody,
  isRealCompletion,
  isRealStream,
  measureRequestShape,
  realisticAnswerTokens,
  requestKinds,
  type RequestKind,
  type RequestShape,
} from './chat-request.ts';
import {
  formatBaselineTable,
  formatFirstByteTable,
  formatLoadTable,
  formatReport,
  formatShapeTable,
  formatVerdictTable,
} from './format-report.ts';
import { installPortkey } from './install-portkey.ts';
import { judgeTargets } from './judge-targets.ts';
import { startPipewright, startPortkey, startSim, type Target } from './start-targets.ts';
import {
  summarizeFirstByteSamples,
  summarizeLoadSamples,
  type FirstByteSample,
  type LoadSample,
} from './summarize-samples.ts';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
/** Seconds of load each target gets per request and mode before the first repeat. */
const primeS = 2;
const repoDir = join(benchDir, '..');

/**
 * Runs the benchmark (a quarter of an hour with the defaults, twice that with a baseline), prints
 * the tables and writes bench/results/gateway-overhead.md. `BENCH_DURATION_S`, `BENCH_WARMUP_S`,
 * `BENCH_REPEATS`, `BENCH_CONCURRENCY` and `BENCH_TTFB_REQUESTS` shorten or lengthen it;
 * `BENCH_MODES=whole` or `stream` measures one mode only, `BENCH_REQUESTS=tiny` or `realistic` one
 * request only. `BENCH_BASELINE_REF=<git ref>` also measures Pipewright at that commit (a git
 * worktree under bench/.tmp/baseline/) side by side with the working tree. `BENCH_CPU_PROF=1` runs
 * Pipewright under `node --cpu-prof` and prints where its CPU time went. A profiled run, or a quick
 * one (under 5 s per cell or 3 repeats), writes to bench/.tmp/gateway-overhead/ instead of
 * bench/results/, its report headed by that caveat.
 *
 * @example
 * // BENCH_BASELINE_REF=main~5 BENCH_CONCURRENCY=16 npm run bench -- gateway-overhead
 * await run();
 */
export async function run(): Promise<void> {
  const settings = readBenchSettings(process.env);
  const facts = readMachineFacts(new Date());
  const started = Date.now();
  const readUsage = createProcessUsageReader();
  const workDir = join(benchDir, '.tmp', 'gateway-overhead');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const modes = readModes(process.env.BENCH_MODES);
  const requests = readRequests(process.env.BENCH_REQUESTS);
  const baselineRef = process.env.BENCH_BASELINE_REF?.trim() || undefined;
  const profileDir = process.env.BENCH_CPU_PROF === '1' ? join(workDir, 'profiles') : undefined;
  const notes: string[] = [];
  const caveat =
    profileDir !== undefined
      ? 'Profiled run (BENCH_CPU_PROF=1): Pipewright ran under `node --cpu-prof`, which slows it; do not compare these figures with unprofiled runs.'
      : settings.durationS < 5 || settings.repeats < 3
        ? `Quick look (${settings.durationS} s per cell, ${settings.repeats} repeat(s)), not a result: only the ratios within this file mean anything, and little.`
        : undefined;
  const log = (line: string) => process.stdout.write(`${line}\n`);

  log(
    `gateway-overhead: ${settings.repeats} repeats × ${requests.length} requests × ${modes.length} modes × ${settings.concurrencies.length} concurrencies, ${settings.warmupS} s warm-up + ${settings.durationS} s per cell`,
  );
  let baseline: GitCheckout | undefined;
  if (baselineRef !== undefined) {
    baseline = await prepareGitCheckout(repoDir, baselineRef, join(benchDir, '.tmp', 'baseline'), log);
    log(`baseline: ${baselineRef} = ${baseline.sha.slice(0, 12)} in ${baseline.dir} (${baseline.install})`);
  }
  log('installing the Portkey baseline into bench/.tmp/portkey (reused when present)…');
  const portkeyInstall = await installPortkey(join(benchDir, '.tmp', 'portkey'));
  if (!portkeyInstall.available) {
    log(`Portkey unavailable: ${portkeyInstall.reason}`);
    notes.push(`Portkey was unavailable: ${portkeyInstall.reason}`);
  }

  const sim = await startSim(repoDir);
  const stoppers: Array<() => Promise<void>> = [() => sim.process.stop()];
  try {
    const targets: Target[] = [sim.target];
    const pipewright = await startPipewright(
      repoDir,
      workDir,
      sim.url,
      profileDir === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] },
    );
    targets.push(pipewright);
    // A graceful stop lets node write the CPU profile on exit.
    stoppers.push(() => pipewright.process.stop(30_000));
    if (baseline !== undefined) {
      const before = await startPipewright(baseline.dir, workDir, sim.url, { name: 'baseline' });
      targets.push(before);
      stoppers.push(() => before.process.stop());
    }
    let portkeyAvailable = portkeyInstall.available;
    if (portkeyInstall.available) {
      try {
        const portkey = await startPortkey(portkeyInstall, sim.url);
        targets.push(portkey);
        stoppers.push(() => portkey.process.stop());
      } catch (error) {
        portkeyAvailable = false;
        notes.push(`Portkey did not start: ${(error as Error).message.split('\n')[0] ?? ''}`);
        log(`Portkey did not start: ${(error as Error).message}`);
      }
    }
    log(
      `targets: ${targets.map((target) => `${target.name} ${target.url} (pid ${target.process.pid})`).join(', ')}`,
    );
    const shapes: RequestShape[] = [];
    for (const request of requests) {
      const shape = await measureRequestShape(sim.target.url, sim.target.headers, request);
      shapes.push(shape);
      if (request === 'realistic' && shape.completionTokens < realisticAnswerTokens * 0.75)
        notes.push(
          `The sim answered the realistic request with ${shape.completionTokens} tokens, not about ${realisticAnswerTokens}: it does not read the \`${answerLengthMarker}\` marker yet (bench/README.md), so the realistic answers are shorter than intended.`,
        );
    }
    log(`\nRequests as the sim answers them\n${formatShapeTable(shapes)}\n`);
    // The first seconds of a process run cold code (tsx's first compile, the JIT's first tiers): prime
    // every target on every request and mode once, so repeat 1 is not a measurement of start-up.
    if (settings.warmupS > 0) {
      log(`priming every target: ${primeS} s per request and mode at concurrency 16…`);
      for (const target of targets)
        for (const request of requests)
          for (const stream of modes)
            await runLoad({
              url: target.url,
              method: 'POST',
              headers: target.headers,
              body: createChatBody({ stream, kind: request }),
              connections: 16,
              durationS: primeS,
            });
    }

    const loadSamples: LoadSample[] = [];
    const firstByteSamples: FirstByteSample[] = [];
    const gone = new Set<string>();
    const isAlive = (target: Target) => {
      if (target.process.isRunning()) return true;
      if (!gone.has(target.name)) {
        gone.add(target.name);
        notes.push(
          `${target.process.name} exited during the run; its later cells are missing. Last output: ${target.process.output().slice(-500)}`,
        );
        log(`${target.process.name} exited during the run`);
      }
      return false;
    };

    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const order = rotate(targets, repeat);
      for (const request of requests) {
        for (const stream of modes) {
          for (const connections of settings.concurrencies) {
            for (const target of order) {
              if (!isAlive(target)) continue;
              const sample = await measureCell({
                target,
                request,
                stream,
                connections,
                repeat,
                settings,
                readUsage,
              });
              loadSamples.push(sample);
              const { load } = sample;
              log(
                `  repeat ${repeat + 1} ${request.padEnd(9)} ${stream ? 'stream' : 'whole '} c=${String(connections).padStart(3)} ${target.name.padEnd(10)} ` +
                  `${load.rps.toFixed(0).padStart(6)} rps  p50 ${load.p50Ms.toFixed(2)} ms  p99 ${load.p99Ms.toFixed(2)} ms  ` +
                  `cpu ${sample.cpuMsPerRequest.toFixed(3)} ms/req${load.non2xx + load.errors + load.badBodies > 0 ? `  FAILED non-2xx ${load.non2xx} errors ${load.errors} bad ${load.badBodies}` : ''}`,
              );
            }
          }
        }
        for (const target of modes.includes(true) ? order : []) {
          if (!isAlive(target)) continue;
          const timing = await measureStreamTiming({
            url: target.url,
            headers: target.headers,
            body: createChatBody({ stream: true, kind: request }),
            count: settings.firstByteRequests,
            verifyBody: isRealStream,
          });
          firstByteSamples.push({ repeat, target: target.name, request, timing });
          log(
            `  repeat ${repeat + 1} ${request.padEnd(9)} first byte ${target.name.padEnd(10)} p50 ${timing.firstByteP50Ms.toFixed(2)} ms, full p50 ${timing.totalP50Ms.toFixed(2)} ms${timing.failures > 0 ? `, ${timing.failures} FAILED (${timing.firstFailure ?? ''})` : ''}`,
          );
        }
      }
    }

    const cells = summarizeLoadSamples(loadSamples);
    const firstBytes = summarizeFirstByteSamples(firstByteSamples);
    const verdicts = judgeTargets(cells, firstBytes, { portkeyAvailable, baselineRef: baseline?.ref });
    const report = formatReport({
      facts,
      settings,
      cells,
      firstBytes,
      verdicts,
      shapes,
      baseline,
      caveat,
      portkey: portkeyInstall.available
        ? portkeyAvailable
          ? { available: true }
          : { available: false, reason: 'it did not start (see notes)' }
        : portkeyInstall,
      notes,
      elapsedS: (Date.now() - started) / 1000,
    });
    // A profiled or quick run's figures must not replace the real results.
    const resultsDir = caveat === undefined ? join(benchDir, 'results') : workDir;
    mkdirSync(resultsDir, { recursive: true });
    const resultsPath = join(
      resultsDir,
      profileDir === undefined ? 'gateway-overhead.md' : 'gateway-overhead-profiled.md',
    );
    writeFileSync(resultsPath, report);
    for (const request of requests) {
      log(
        `\n${request} request, whole answers (non-streaming)\n${formatLoadTable(cells, false, request, baseline)}`,
      );
      log(`\n${request} request, streams\n${formatLoadTable(cells, true, request, baseline)}`);
      if (modes.includes(true))
        log(
          `\n${request} request, streams at concurrency 1: time to first byte\n${formatFirstByteTable(firstBytes, request, baseline)}`,
        );
    }
    if (baseline !== undefined)
      log(`\nWorking tree against ${baseline.ref}\n${formatBaselineTable(cells, baseline)}`);
    log(`\nTargets\n${formatVerdictTable(verdicts)}`);
    if (caveat !== undefined) log(`\n${caveat}`);
    log(`\nwrote ${resultsPath}`);
  } finally {
    for (const stop of stoppers.reverse()) await stop();
  }
  if (profileDir !== undefined) printProfile(profileDir, log);
}

function printProfile(profileDir: string, log: (line: string) => void): void {
  // tsx's loader runs on its own thread with its own profile; the main thread's is the largest.
  const file = readdirSync(profileDir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(profileDir, b)).size - statSync(join(profileDir, a)).size)[0];
  if (file === undefined) {
    log(`no .cpuprofile in ${profileDir}: the gateway did not exit cleanly`);
    return;
  }
  const summary = summarizeCpuProfile(join(profileDir, file), repoDir, 30);
  const table = (entries: ProfileEntry[]) =>
    formatMarkdownTable(
      ['where', 'ms', '% of busy'],
      entries.map((entry) => [entry.name, formatNumber(entry.ms), formatNumber(entry.percent, 1)]),
      ['left', 'right', 'right'],
    );
  const text = [
    `# Pipewright CPU profile (${join(profileDir, file)})`,
    `busy: ${formatNumber(summary.busyMs)} ms`,
    `\n## Self time by function\n\n${table(summary.bySelf)}`,
    `\n## Total time by function (self + callees)\n\n${table(summary.byTotal)}`,
    `\n## Self time by file\n\n${table(summary.byFile)}`,
  ].join('\n');
  const path = join(profileDir, 'profile-summary.md');
  writeFileSync(path, `${text}\n`);
  log(`\n${text}\n\nwrote ${path}`);
}

async function measureCell(options: {
  target: Target;
  request: RequestKind;
  stream: boolean;
  connections: number;
  repeat: number;
  settings: ReturnType<typeof readBenchSettings>;
  readUsage: ProcessUsageReader;
}): Promise<LoadSample> {
  const { target, request, stream, connections, settings, readUsage } = options;
  const load = {
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: createChatBody({ stream, kind: request }),
    connections,
    verifyBody: stream ? isRealStream : isRealCompletion,
  };
  if (settings.warmupS > 0) await runLoad({ ...load, durationS: settings.warmupS });
  const before = readUsage(target.process.pid);
  const result = await runLoad({ ...load, durationS: settings.durationS });
  const after = readUsage(target.process.pid);
  return {
    repeat: options.repeat,
    target: target.name,
    request,
    stream,
    connections,
    load: result,
    cpuMsPerRequest: result.responses === 0 ? Number.NaN : (after.cpuMs - before.cpuMs) / result.responses,
    rssBytes: after.rssBytes,
  };
}

/** `BENCH_MODES`: `whole`, `stream` or both (the default), as the `stream` flag of each mode. */
function readModes(text: string | undefined): boolean[] {
  if (text === undefined || text.trim() === '') return [false, true];
  const names = text.split(',').map((part) => part.trim());
  if (names.length === 0 || names.some((name) => name !== 'whole' && name !== 'stream')) {
    throw new Error(`BENCH_MODES: must be "whole", "stream" or "whole,stream", got "${text}"`);
  }
  return [...new Set(names)].map((name) => name === 'stream');
}

/** `BENCH_REQUESTS`: `tiny`, `realistic` or both (the default). */
function readRequests(text: string | undefined): RequestKind[] {
  if (text === undefined || text.trim() === '') return [...requestKinds];
  const names = text.split(',').map((part) => part.trim());
  const known = (name: string): name is RequestKind => (requestKinds as readonly string[]).includes(name);
  if (!names.every(known)) {
    throw new Error(
      `BENCH_REQUESTS: must be a comma-separated list of ${requestKinds.join(', ')}, got "${text}"`,
    );
  }
  return [...new Set(names)];
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}
