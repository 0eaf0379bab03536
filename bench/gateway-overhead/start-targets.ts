import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePort, spawnProcess, type SpawnedProcess } from '../support/index.ts';
import { benchModel } from './chat-request.ts';
import type { PortkeyInstall } from './install-portkey.ts';

/** `baseline` is Pipewright from another commit (`BENCH_BASELINE_REF`), in the same sitting. */
export const targetNames = ['direct', 'pipewright', 'baseline', 'portkey'] as const;
export type TargetName = (typeof targetNames)[number];

/** One way to reach the sim: directly or through a gateway. */
export interface Target {
  name: TargetName;
  /** Full URL of the chat completions endpoint. */
  url: string;
  headers: Record<string, string>;
  /** The process whose CPU and memory are measured (the gateway; the sim for `direct`). */
  process: SpawnedProcess;
}

const simKey = 'sim-key';
const masterKey = 'bench-master-key-0123456789';
const jsonHeaders = { 'content-type': 'application/json' };

/**
 * `pipewright sim` in its own process on a free port: the zero-delay upstream of every target.
 *
 * @example
 * const sim = await startSim('/work/main');
 */
export async function startSim(
  repoDir: string,
): Promise<{ process: SpawnedProcess; url: string; target: Target }> {
  const child = await spawnProcess({
    name: 'pipewright sim',
    command: process.execPath,
    args: [join(repoDir, 'bin', 'pipewright.js'), 'sim', '--host', '127.0.0.1', '--port', '0'],
    cwd: repoDir,
    ready: /listening on (http:\/\/[^\s]+)/,
  });
  const url = requireGroup(child, 1);
  return {
    process: child,
    url,
    target: {
      name: 'direct',
      url: `${url}/v1/chat/completions`,
      headers: { ...jsonHeaders, authorization: `Bearer ${simKey}` },
      process: child,
    },
  };
}

/**
 * `pipewright serve` of the checkout in `repoDir`, in its own process, with a config (written to
 * `workDir`) whose one model group points at the sim through the OpenAI adapter, as a user's would.
 * `name: 'baseline'` starts another commit's checkout the same way.
 *
 * @example
 * const pipewright = await startPipewright('/work/main', 'bench/.tmp/gateway-overhead', sim.url);
 */
export async function startPipewright(
  repoDir: string,
  workDir: string,
  simUrl: string,
  options: {
    name?: 'pipewright' | 'baseline';
    nodeArgs?: readonly string[];
    configName?: string;
    extraConfig?: Record<string, unknown>;
  } = {},
): Promise<Target> {
  const name = options.name ?? 'pipewright';
  const configName = options.configName ?? `${name}.json`;
  const configPath = join(workDir, configName);
  const config = {
    server: { host: '127.0.0.1', port: 0, masterKey },
    store: { path: join(workDir, `${configName.replace(/\.json$/, '')}.db`) },
    deployments: [
      { id: 'sim-openai', provider: 'openai', model: benchModel, baseUrl: `${simUrl}/v1`, apiKey: simKey },
    ],
    modelGroups: [{ name: benchModel, deployments: ['sim-openai'] }],
    ...options.extraConfig,
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const child = await spawnProcess({
    name: name === 'baseline' ? `pipewright serve (baseline, ${repoDir})` : 'pipewright serve',
    command: process.execPath,
    args: [
      ...(options.nodeArgs ?? []),
      join(repoDir, 'bin', 'pipewright.js'),
      'serve',
      '--config',
      configPath,
      '--port',
      '0',
    ],
    cwd: repoDir,
    env: { ...process.env, PIPEWRIGHT_LOG_LEVEL: 'info' },
    ready: /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"pipewright gateway listening"/,
  });
  return {
    name,
    url: `${requireGroup(child, 1)}/v1/chat/completions`,
    headers: { ...jsonHeaders, authorization: `Bearer ${masterKey}` },
    process: child,
  };
}

/**
 * The Portkey gateway (the baseline) in its own process, sending to the sim as a custom OpenAI host.
 *
 * @example
 * const portkey = await startPortkey(install, sim.url);
 */
export async function startPortkey(
  install: PortkeyInstall & { available: true },
  simUrl: string,
): Promise<Target> {
  const port = await findFreePort('127.0.0.1');
  const child = await spawnProcess({
    name: 'portkey gateway',
    command: process.execPath,
    args: [install.entry, `--port=${port}`, '--headless'],
    cwd: install.dir,
    ready: /Ready for connections/,
  });
  return {
    name: 'portkey',
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: {
      ...jsonHeaders,
      authorization: `Bearer ${simKey}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${simUrl}/v1`,
    },
    process: child,
  };
}

function requireGroup(child: SpawnedProcess, group: number): string {
  const value = child.readyMatch[group];
  if (value === undefined) throw new Error(`${child.name}: ready line without a URL`);
  return value;
}
