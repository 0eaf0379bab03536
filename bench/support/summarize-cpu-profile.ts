import { readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `functionName (file:line)` or a file path. */
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  busyMs: number;
  /** Time in the function itself. */
  bySelf: ProfileEntry[];
  /** Time in the function and everything it called (each stack counted once per function). */
  byTotal: ProfileEntry[];
  /** Self time by source file. */
  byFile: ProfileEntry[];
}

/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and ranks where the time went: self time and
 * inclusive time per function (with file:line, 1-based), and self time per file. Paths are shown
 * relative to `rootDir`. TypeScript run through tsx is whitespace-minified (every frame is on line 1),
 * so its lines come from the source maps in tsx's on-disk cache when the file is still there.
 *
 * @example
 * const summary = summarizeCpuProfile('bench/.tmp/profiles/CPU.cpuprofile', '/work/main', 20);
 */
export function summarizeCpuProfile(path: string, rootDir: string, top: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const root = `file://${rootDir.replace(/\/$/, '')}/`;
  const fileOf = (node: ProfileNode) =>
    node.callFrame.url === '' ? '(native)' : node.callFrame.url.replace(root, '').replace(/^file:\/\//, '');
  const locate = createTsxLocator(profile.nodes, root);
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (url === '') return functionName === '' ? '(anonymous native)' : functionName;
    const line =
      locate(node) ??
      (lineNumber === 0 && columnNumber > 0 && url.startsWith(root)
        ? `1 col ${columnNumber + 1}`
        : String(lineNumber + 1));
    return `${functionName === '' ? '(anonymous)' : functionName} (${fileOf(node)}:${line})`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index] ?? 0;
    if (node === undefined || node.callFrame.functionName === '(idle)') return;
    busyUs += delta;
    self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + delta);
    files.set(fileOf(node), (files.get(fileOf(node)) ?? 0) + delta);
    const seen = new Set<string>();
    for (
      let current: ProfileNode | undefined = node;
      current !== undefined;
      current = byId.get(parentOf.get(current.id) ?? -1)
    ) {
      const name = nameOf(current);
      if (name === '(root)' || seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + delta);
    }
  });
  const rank = (map: Map<string, number>): ProfileEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs === 0 ? 0 : (us / busyUs) * 100 }));
  return { busyMs: busyUs / 1000, bySelf: rank(self), byTotal: rank(total), byFile: rank(files) };
}

interface CachedTransform {
  code: string;
  map: SourceMapPayload;
}

/**
 * Maps frames of tsx-loaded files under `root` to their TypeScript line through tsx's cache
 * (`$TMPDIR/tsx-<uid>/`, JSON with the emitted code and its source map). The cache may hold several
 * versions of a file: the one whose code has the profile's function names at their columns wins.
 */
function createTsxLocator(
  nodes: readonly ProfileNode[],
  root: string,
): (node: ProfileNode) => string | undefined {
  const urls = new Set(
    nodes
      .map((node) => node.callFrame.url)
      .filter((url) => url.startsWith(root) && /\.[mc]?ts$/.test(url) && !url.includes('/node_modules/')),
  );
  const chosen = new Map<string, SourceMap | undefined>();
  if (urls.size === 0) return () => undefined;
  const candidates = readTsxCache(new Set([...urls].map((url) => url.replace(/^file:\/\//, ''))));
  for (const url of urls) {
    const named = nodes.filter((node) => node.callFrame.url === url && node.callFrame.functionName !== '');
    let best: { score: number; transform: CachedTransform } | undefined;
    for (const transform of candidates.get(url.replace(/^file:\/\//, '')) ?? []) {
      const score = named.filter((node) =>
        hasNameAt(transform.code, node.callFrame.functionName, node.callFrame.columnNumber),
      ).length;
      if (best === undefined || score > best.score) best = { score, transform };
    }
    chosen.set(
      url,
      best !== undefined && (best.score > 0 || named.length === 0)
        ? new SourceMap(best.transform.map)
        : undefined,
    );
  }
  return (node) => {
    const map = chosen.get(node.callFrame.url);
    if (map === undefined) return undefined;
    const entry = map.findEntry(node.callFrame.lineNumber, node.callFrame.columnNumber) as {
      originalLine?: number;
    };
    return entry.originalLine === undefined ? undefined : String(entry.originalLine + 1);
  };
}

function readTsxCache(paths: ReadonlySet<string>): Map<string, CachedTransform[]> {
  const found = new Map<string, CachedTransform[]>();
  const user = typeof process.geteuid === 'function' ? String(process.geteuid()) : userInfo().username;
  const dir = join(tmpdir(), `tsx-${user}`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of names) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const source = /"sources":\["([^"]+)"/.exec(text)?.[1];
    if (source === undefined || !paths.has(source)) continue;
    try {
      const parsed = JSON.parse(text) as Partial<CachedTransform>;
      if (typeof parsed.code === 'string' && typeof parsed.map === 'object')
        found.set(source, [...(found.get(source) ?? []), { code: parsed.code, map: parsed.map }]);
    } catch {
      // A cache file being written right now: skip it.
    }
  }
  return found;
}

/** V8 places a named function at its parameter list: the name ends where the column starts. */
function hasNameAt(code: string, functionName: string, column: number): boolean {
  const name = functionName.replace(/^(get|set) /, '');
  return code.slice(column - name.length, column) === name || code.startsWith(name, column);
}
