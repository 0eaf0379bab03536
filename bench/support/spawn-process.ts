import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface SpawnProcessOptions {
  /** Shown in errors: `pipewright serve`. */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Matched against everything the process printed so far (stdout and stderr, ANSI colours removed). */
  ready: RegExp;
  /** How long to wait for `ready` before giving up; default 30 s. */
  timeoutMs?: number;
}

export interface SpawnedProcess {
  name: string;
  pid: number;
  /** The match of `ready`, e.g. to read the URL a server printed. */
  readyMatch: RegExpExecArray;
  /** The last 64 KB the process printed, for error messages. */
  output(): string;
  /** True while the process runs. */
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const outputLimit = 64 * 1024;
// eslint-disable-next-line no-control-regex -- ANSI escape sequences are control characters by definition
const ansiPattern = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * Starts a process and resolves once it prints a line matching `ready`. Its output keeps being
 * read afterwards (a full pipe would stall it), and it is killed if this process exits first.
 *
 * @example
 * const sim = await spawnProcess({ name: 'sim', command: process.execPath, args: ['bin/pipewright.js', 'sim', '--port', '0'], ready: /listening on (http:\S+)/ });
 * const url = sim.readyMatch[1];
 */
export async function spawnProcess(options: SpawnProcessOptions): Promise<SpawnedProcess> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = child.exitCode !== null;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });

  const readyMatch = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      child.kill('SIGKILL');
      reject(
        new Error(
          `${options.name}: not ready after ${options.timeoutMs ?? 30_000} ms. Output:\n${output.slice(-4000)}`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8').replace(ansiPattern, '')).slice(-outputLimit);
      const match = options.ready.exec(output);
      if (match !== null) {
        finish();
        resolve(match);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      finish();
      reject(
        new Error(
          `${options.name}: exited (${signal ?? `code ${code}`}) before it was ready. Output:\n${output.slice(-4000)}`,
        ),
      );
    };
    const onError = (error: Error) => {
      finish();
      reject(new Error(`${options.name}: cannot start: ${error.message}`));
    };
    function finish() {
      clearTimeout(timer);
      child.stdout.removeListener('data', onData);
      child.stderr.removeListener('data', onData);
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8').replace(ansiPattern, '')).slice(-outputLimit);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: started without a pid`);

  return {
    name: options.name,
    pid,
    readyMatch,
    output: () => output,
    isRunning: () => !exited,
    async stop(graceMs = 5000) {
      if (exited) return;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
