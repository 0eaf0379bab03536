import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GitCheckout {
  /** The ref as given (`main~3`, a tag, a sha). */
  ref: string;
  /** The commit it names. */
  sha: string;
  /** The folder of the checkout (a git worktree). */
  dir: string;
  /** How its dependencies were provided. */
  install: 'symlinked node_modules' | 'npm ci' | 'reused';
}

/**
 * A runnable checkout of another commit of this repository, for measuring it beside the working
 * tree in the same sitting: a detached git worktree under `parentDir` (reused when it is already at
 * that commit) with its dependencies. When every package the other commit's lockfile pins is
 * installed here at the same version, its node_modules is a symlink to this one (no install);
 * otherwise `npm ci` runs in the checkout.
 *
 * @example
 * const baseline = await prepareGitCheckout('/work/main', 'd82dc6e', 'bench/.tmp/baseline');
 * // node `${baseline.dir}/bin/pipewright.js` serve …
 */
export async function prepareGitCheckout(
  repoDir: string,
  ref: string,
  parentDir: string,
  log: (line: string) => void = () => {},
): Promise<GitCheckout> {
  const git = async (args: readonly string[], cwd = repoDir) =>
    (await run('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  let sha: string;
  try {
    sha = await git(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`]);
  } catch {
    throw new Error(`BENCH_BASELINE_REF: "${ref}" is not a commit of ${repoDir}`);
  }
  const dir = resolve(parentDir, sha.slice(0, 12));
  let install: GitCheckout['install'] = 'reused';
  const atCommit =
    existsSync(join(dir, '.git')) && (await git(['rev-parse', 'HEAD'], dir).catch(() => '')) === sha;
  if (!atCommit) {
    log(`creating a git worktree of ${ref} (${sha.slice(0, 12)}) in ${dir}…`);
    rmSync(dir, { recursive: true, force: true });
    await git(['worktree', 'prune']);
    mkdirSync(parentDir, { recursive: true });
    await git(['worktree', 'add', '--detach', '--force', dir, sha]);
  }
  const nodeModules = join(dir, 'node_modules');
  const linked = isSymlink(nodeModules);
  // An earlier npm ci that finished leaves node_modules/.package-lock.json behind.
  if (linked || !existsSync(join(nodeModules, '.package-lock.json'))) {
    const mismatch = findLockMismatch(join(repoDir, 'package-lock.json'), join(dir, 'package-lock.json'));
    if (mismatch === undefined) {
      if (!linked) {
        rmSync(nodeModules, { recursive: true, force: true });
        symlinkSync(join(repoDir, 'node_modules'), nodeModules, 'dir');
        install = 'symlinked node_modules';
      }
    } else {
      log(`${ref}'s lockfile differs from this one (${mismatch}): npm ci in ${dir}…`);
      if (linked) rmSync(nodeModules);
      await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        timeout: 900_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      install = 'npm ci';
    }
  }
  return { ref, sha, dir, install };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

interface Lockfile {
  packages?: Record<string, { version?: string; link?: boolean }>;
}

/**
 * The first package the other lockfile pins that is not installed here at the same version, or
 * undefined when this node_modules serves the other commit as it is.
 */
function findLockMismatch(currentLockPath: string, otherLockPath: string): string | undefined {
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Lockfile;
  let current: Lockfile;
  let other: Lockfile;
  try {
    current = read(currentLockPath);
    other = read(otherLockPath);
  } catch (error) {
    return `cannot read a lockfile: ${(error as Error).message}`;
  }
  for (const [path, entry] of Object.entries(other.packages ?? {})) {
    if (path === '' || entry.link === true) continue;
    const here = current.packages?.[path];
    if (here?.version !== entry.version)
      return `${path}: ${entry.version ?? '?'} there, ${here?.version ?? 'absent'} here`;
  }
  return undefined;
}
