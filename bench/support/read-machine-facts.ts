import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  nodeVersion: string;
  platform: string;
  /** 1-minute load average when the benchmark started: a busy machine makes every figure noisier. */
  loadAverage: number;
  date: string;
}

/**
 * What a reader needs to judge a result: the machine, the Node version, the date.
 *
 * @example
 * const facts = readMachineFacts(new Date());
 */
export function readMachineFacts(now: Date): MachineFacts {
  const processors = cpus();
  return {
    cores: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    date: now.toISOString(),
  };
}

/**
 * The facts as Markdown bullet lines.
 *
 * @example
 * formatMachineFacts(readMachineFacts(new Date()));
 */
export function formatMachineFacts(facts: MachineFacts): string {
  return [
    `- Machine: ${facts.cores} cores (${facts.cpuModel}), ${facts.memoryGiB} GiB, ${facts.platform}`,
    `- Node.js: ${facts.nodeVersion}`,
    `- Date: ${facts.date}`,
    `- Load average (1 min) at start: ${facts.loadAverage}`,
  ].join('\n');
}
