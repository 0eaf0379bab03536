import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  /** User + system CPU time of the whole process (all threads) since it started, in ms. */
  cpuMs: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
}

/** Reads `ProcessUsage` of a process by pid. */
export type ProcessUsageReader = (pid: number) => ProcessUsage;

/**
 * A reader of another process's CPU time (`/proc/<pid>/stat` utime+stime, converted from clock
 * ticks with `getconf CLK_TCK`) and RSS (`/proc/<pid>/status` VmRSS). Linux only.
 *
 * @example
 * const readUsage = createProcessUsageReader();
 * const before = readUsage(child.pid);
 */
export function createProcessUsageReader(): ProcessUsageReader {
  const ticksPerSecond = readClockTicksPerSecond();
  return (pid) => ({ cpuMs: readCpuMs(pid, ticksPerSecond), rssBytes: readRssBytes(pid) });
}

function readClockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return ticks;
  } catch {
    // getconf missing: Linux has used 100 ticks per second on every common platform.
  }
  return 100;
}

function readCpuMs(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) is index 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`/proc/${pid}/stat: cannot read utime/stime`);
  return ((utime + stime) * 1000) / ticksPerSecond;
}

function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`/proc/${pid}/status: no VmRSS line`);
  return Number(match[1]) * 1024;
}
