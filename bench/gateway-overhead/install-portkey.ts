import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const portkeyVersion = '1.15.2';
// Newer @hono/node-server answers every Portkey stream with a 500 (Portkey-AI/gateway#1389).
export const honoNodeServerVersion = '1.13.5';

export type PortkeyInstall =
  { available: true; dir: string; entry: string } | { available: false; reason: string };

/**
 * Installs the Portkey gateway (the baseline) into `dir` with npm, unless the right versions are
 * already there. It is never a dependency of pipewright: it lives in bench/.tmp/ only.
 *
 * @example
 * const portkey = await installPortkey('bench/.tmp/portkey');
 * if (!portkey.available) console.log(portkey.reason);
 */
export async function installPortkey(folder: string): Promise<PortkeyInstall> {
  const dir = resolve(folder);
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (isInstalled(dir, entry)) return { available: true, dir, entry };
  mkdirSync(dir, { recursive: true });
  const manifest = {
    name: 'pipewright-bench-portkey',
    private: true,
    description: 'Baseline for bench/gateway-overhead, installed on demand; not a dependency of pipewright.',
    dependencies: { '@portkey-ai/gateway': portkeyVersion },
    overrides: { '@hono/node-server': honoNodeServerVersion },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  try {
    await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error'], {
      cwd: dir,
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const detail = error as { stderr?: string; message: string };
    return {
      available: false,
      reason: `npm install @portkey-ai/gateway@${portkeyVersion} failed: ${(detail.stderr ?? detail.message).trim().split('\n').slice(-5).join(' ')}`,
    };
  }
  if (!isInstalled(dir, entry))
    return {
      available: false,
      reason: `npm install finished but ${entry} or the @hono/node-server ${honoNodeServerVersion} override is missing`,
    };
  return { available: true, dir, entry };
}

function isInstalled(dir: string, entry: string): boolean {
  return (
    existsSync(entry) &&
    readVersion(join(dir, 'node_modules', '@portkey-ai', 'gateway')) === portkeyVersion &&
    readVersion(join(dir, 'node_modules', '@hono', 'node-server')) === honoNodeServerVersion
  );
}

function readVersion(packageDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}
