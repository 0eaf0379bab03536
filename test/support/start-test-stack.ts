import OpenAI from 'openai';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/index.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startSimServer, type SimServer } from '../../src/providers/sim/index.ts';

export const testMasterKey = 'test-master-key-0123456789';

/** The official openai SDK pointed at the stack's gateway with the master key, retries off (the gateway's own are under test). */
export function openAiClientFor(stack: TestStack): OpenAI {
  return new OpenAI({ apiKey: testMasterKey, baseURL: `${stack.gateway.url}/v1`, maxRetries: 0 });
}

export interface TestStack {
  sim: SimServer;
  gateway: RunningGateway;
  /** Stops the gateway gracefully and starts a new one on the same config, store and sim. */
  restartGateway(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The sim provider plus a real gateway on 127.0.0.1 (in-memory store), with model groups
 * for each wire format and a few that always fail in a chosen way (through `x-sim-fault`).
 */
export async function startTestStack(
  options: { extraConfig?: Record<string, unknown>; storePath?: string; sim?: SimServer } = {},
): Promise<TestStack> {
  // A sim passed in is shared (two gateways with the same config) and left open by close().
  const ownsSim = options.sim === undefined;
  const sim = options.sim ?? (await startSimServer({ host: '127.0.0.1', port: 0, seed: 1 }));
  const simDeployment = (
    id: string,
    model: string,
    wireFormat: 'openai' | 'anthropic' | 'gemini',
    fault?: string,
  ) => ({
    id,
    provider: 'sim',
    model,
    wireFormat,
    baseUrl: wireFormat === 'gemini' ? `${sim.url}/v1beta` : `${sim.url}/v1`,
    apiKey: 'sim-key',
    ...(fault === undefined ? {} : { headers: { 'x-sim-fault': fault } }),
  });
  const config = parseConfig({
    server: { masterKey: testMasterKey, port: 0, bodyLimitBytes: 64 * 1024, shutdownGraceMs: 5000 },
    store: { path: options.storePath ?? ':memory:' },
    telemetry: { flushIntervalMs: 50 },
    deployments: [
      simDeployment('sim-openai', 'gpt-4o-mini', 'openai'),
      simDeployment('sim-anthropic', 'claude-3-5-haiku-latest', 'anthropic'),
      simDeployment('sim-gemini', 'gemini-2.5-flash', 'gemini'),
      simDeployment('sim-rate-limited', 'gpt-4o-mini', 'openai', 'status=429; retry-after=7'),
      simDeployment('sim-down', 'gpt-4o-mini', 'openai', 'status=503'),
      simDeployment('sim-quota', 'gpt-4o-mini', 'openai', 'quota'),
      simDeployment('sim-cut', 'gpt-4o-mini', 'openai', 'cut-stream=after:3'),
      simDeployment('sim-slow', 'gpt-4o-mini', 'openai', 'latency=300'),
      simDeployment('sim-trickle', 'gpt-4o-mini', 'openai', 'chunk-delay=30'),
      simDeployment('sim-bad-key', 'gpt-4o-mini', 'openai'),
    ]
      .map((deployment) =>
        deployment.id === 'sim-bad-key' ? { ...deployment, apiKey: 'invalid-key' } : deployment,
      )
      // These always fail on purpose: the e2e tests check how a failure surfaces, not retries (test/chaos does).
      .map((deployment) =>
        deployment.headers === undefined || deployment.id === 'sim-slow' || deployment.id === 'sim-trickle'
          ? deployment
          : { ...deployment, retry: { maxAttempts: 1 } },
      ),
    modelGroups: [
      { name: 'gpt-4o-mini', deployments: ['sim-openai'] },
      { name: 'claude', deployments: ['sim-anthropic'] },
      { name: 'gemini', deployments: ['sim-gemini'] },
      { name: 'rate-limited', deployments: ['sim-rate-limited'] },
      { name: 'down', deployments: ['sim-down'] },
      { name: 'quota', deployments: ['sim-quota'] },
      { name: 'cut', deployments: ['sim-cut'] },
      { name: 'slow', deployments: ['sim-slow'] },
      { name: 'trickle', deployments: ['sim-trickle'] },
      { name: 'bad-key', deployments: ['sim-bad-key'] },
      { name: 'down-then-ok', deployments: ['sim-down', 'sim-openai'] },
    ],
    ...options.extraConfig,
  });
  const start = () => startGateway({ config, port: 0, logger: pino({ level: 'silent' }) });
  const stack: TestStack = {
    sim,
    gateway: await start(),
    async restartGateway() {
      await stack.gateway.close();
      stack.gateway = await start();
    },
    async close() {
      await stack.gateway.close();
      if (ownsSim) await sim.close();
    },
  };
  return stack;
}
