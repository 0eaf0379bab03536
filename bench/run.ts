// `npm run bench -- NAME`: runs bench/NAME/index.ts's `run()`, which prints a table and writes
// bench/results/NAME.md. Not part of `npm test`: benchmarks are where speed is shown, never tests.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

interface BenchmarkModule {
  run(): Promise<void>;
}

const benchDir = fileURLToPath(new URL('.', import.meta.url));

function listBenchmarks(): string[] {
  return readdirSync(benchDir, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && entry.name !== 'support' && existsSync(join(benchDir, entry.name, 'index.ts')),
    )
    .map((entry) => entry.name)
    .sort();
}

function isBenchmarkModule(value: unknown): value is BenchmarkModule {
  return (
    typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function'
  );
}

async function main(): Promise<void> {
  const name = process.argv[2];
  const available = listBenchmarks();
  if (name === undefined || name === '' || name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- NAME\nbenchmarks: ${available.join(', ') || '(none)'}\n`);
    process.exitCode = name === undefined || name === '' ? 1 : 0;
    return;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !available.includes(name)) {
    process.stderr.write(
      `bench: unknown benchmark "${name}"; available: ${available.join(', ') || '(none)'}\n`,
    );
    process.exitCode = 1;
    return;
  }
  const module: unknown = await import(pathToFileURL(join(benchDir, name, 'index.ts')).href);
  if (!isBenchmarkModule(module))
    throw new Error(`bench/${name}/index.ts: must export an async function run()`);
  await module.run();
}

// Exit through process.exit on a signal so the child processes a benchmark started are killed.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  // Open keep-alive sockets or timers left by a client must not hold the process after the run.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
