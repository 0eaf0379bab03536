export { findFreePort } from './find-free-port.ts';
export { prepareGitCheckout, type GitCheckout } from './prepare-git-checkout.ts';
export {
  formatMarkdownTable,
  formatNumber,
  formatSigned,
  type ColumnAlign,
} from './format-markdown-table.ts';
export {
  measureStreamTiming,
  type StreamTimingOptions,
  type StreamTimingResult,
} from './measure-stream-timing.ts';
export {
  createProcessUsageReader,
  type ProcessUsage,
  type ProcessUsageReader,
} from './read-process-usage.ts';
export { formatMachineFacts, readMachineFacts, type MachineFacts } from './read-machine-facts.ts';
export { runLoad, type LoadOptions, type LoadResult } from './run-load.ts';
export { spawnProcess, type SpawnedProcess, type SpawnProcessOptions } from './spawn-process.ts';
export { summarizeCpuProfile, type ProfileEntry, type ProfileSummary } from './summarize-cpu-profile.ts';
export { median, percentile, percentileOfSorted } from './statistics.ts';
export { readBenchSettings, readList, readNumber, type BenchSettings } from './read-bench-settings.ts';
