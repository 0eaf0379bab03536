import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../core/index.ts';
import { startSimServer } from '../providers/sim/index.ts';

function readSimConfig(path: string): unknown {
  try {
    return parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new ConfigError({ message: `${path}: ${(error as Error).message}`, cause: error });
  }
}

/** `pipewright sim`: the simulated provider on its own, until SIGTERM/SIGINT. */
export async function runSim(options: {
  host: string;
  port: number;
  config?: string;
  seed?: string;
}): Promise<void> {
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new ConfigError({ message: `--seed: must be an integer, got "${options.seed}"`, param: 'seed' });
  const config = options.config === undefined ? undefined : readSimConfig(options.config);
  const sim = await startSimServer({
    host: options.host,
    port: options.port,
    ...(seed === undefined ? {} : { seed }),
    ...(config === undefined ? {} : { config }),
  });
  process.stdout.write(
    `pipewright sim (SIMULATED provider — no real model is called) listening on ${sim.url}\n` +
      `  OpenAI:    ${sim.url}/v1/chat/completions, /v1/embeddings, /v1/images/generations\n` +
      `  Anthropic: ${sim.url}/v1/messages\n` +
      `  Gemini:    ${sim.url}/v1beta/models/{model}:generateContent\n` +
      `  Faults:    send an x-sim-fault header (see src/providers/sim/README.md)\n`,
  );
  const stop = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
